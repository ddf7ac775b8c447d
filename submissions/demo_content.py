"""The structured parts of the two sample texts, written for the demo from their own prose.

The sample (../shared/data) gives the eight sections and the amount only. What a finance
reviewer now asks for beside them, the project data, the cost breakdown (资金明细), the
performance targets (绩效目标表) and the milestones, is written here from what the prose
itself says: 124 村（社区）, 3,662 名小组干部, 145 个站点, the dates in 七. Each breakdown adds up
to the text's amount. `seed_demo` puts them on the imported drafts; the tests build their
import files from them.

Names and telephone numbers are invented.
"""

from typing import Any

# The demo's people, whom seed_demo creates: username -> (role, department code or None for
# all departments). The roles are the groups' names (workflow.states.Role, Administrator).
# 三员分立: the three administrators, one job each (staff, so that they reach the admin;
# nobody in the demo is a superuser, a flag that grants nothing here). In the demo they all
# sign in with their password alone (workflow.twofactor).
DEMO_USERS: dict[str, tuple[str, str | None]] = {
    "org_drafter": ("drafter", "org"),
    "org_reviewer": ("dept_reviewer", "org"),
    "edu_drafter": ("drafter", "edu"),
    "edu_reviewer": ("dept_reviewer", "edu"),
    "finance": ("finance_reviewer", None),
    "approver": ("approver", None),
    "auditor": ("auditor", None),
    "admin": ("system_admin", None),
    "security_admin": ("security_admin", None),
    "audit_admin": ("audit_admin", None),
}

ELECTION_TITLE = "新平县村级组织换届工作经费"
PARTY_BUILDING_TITLE = "新平县委组织部党建工作经费"


def _indicator(
    level1: str,
    level2: str,
    name: str,
    comparison: str,
    value: str,
    unit: str,
    weight: str,
    term: str = "annual",
) -> dict[str, Any]:
    return {
        "level1": level1,
        "level2": level2,
        "name": name,
        "comparison": comparison,
        "value": value,
        "unit": unit,
        "weight": weight,
        "term": term,
    }


ENRICHMENT: dict[str, dict[str, Any]] = {
    ELECTION_TITLE: {
        "project_code": "530427-2025-ZZB-001",
        "category": "specific_purpose",
        "novelty": "new",
        "start_date": "2025-09-01",
        "end_date": "2026-03-31",
        "contact_person": "李明",
        "contact_phone": "0877-7012345",
        "for_publication": True,
        "basis_documents": [
            {"title": "《中国共产党章程》", "number": ""},
            {"title": "《中国共产党基层组织选举工作暂行条例》", "number": ""},
            {"title": "《中国共产党农村基层组织工作条例》", "number": ""},
        ],
        "breakdown": [
            {
                "item": "换届领导小组办公室运转经费",
                "amount": "180000.00",
                "basis": "办公用品、资料和会务，按 9 个月、每月 20,000元测算",
                "source": "local",
            },
            {
                "item": "省、市调研指导保障费",
                "amount": "60000.00",
                "basis": "预计调研指导 12 批次，每批次 5,000元",
                "source": "local",
            },
            {
                "item": "县级工作专班经费",
                "amount": "240000.00",
                "basis": "专班 20 人，工作 6 个月，每人每月 2,000元",
                "source": "local",
            },
            {
                "item": "动员大会及培训会议费",
                "amount": "150000.00",
                "basis": "动员大会 1 次、培训 3 期，约 750 人次，每人次 200元",
                "source": "local",
            },
            {
                "item": "学习用书征订及文件资料编印费",
                "amount": "129800.00",
                "basis": "学习用书 2,000 册，每册 40元；选票、文件资料编印 49,800元",
                "source": "local",
            },
            {
                "item": "村（社区）换届补助经费",
                "amount": "992000.00",
                "basis": "124 个村（社区），每个 8,000元",
                "source": "local",
            },
        ],
        "yearly_amounts": [
            {"year": 2025, "amount": "1751800.00"},
            {"year": 2026, "amount": "420000.00"},
        ],
        "target_overall": (
            "按期完成全县 124 个村（社区）“两委”换届选举，选出素质优良、结构合理、"
            "群众公认的新一届村（社区）“两委”班子。"
        ),
        "target_annual": (
            "2025年完成换届前期筹备：成立工作机构，召开动员和培训会议，征订学习用书、编印资料，"
            "指导 124 个村（社区）做好换届准备。"
        ),
        "indicators": [
            _indicator("output", "quantity", "指导村（社区）完成换届选举", "=", "124", "个", "20"),
            _indicator("output", "quantity", "召开动员大会和培训会议", "≥", "4", "次", "10"),
            _indicator("output", "quality", "换届选举程序合法合规率", "=", "100", "%", "15"),
            _indicator("output", "timeliness", "换届选举按期完成率", "=", "100", "%", "10"),
            _indicator("output", "cost", "村（社区）换届补助标准", "≤", "8000", "元/个", "10"),
            _indicator(
                "benefit",
                "social",
                "村（社区）“两委”班子配备到位率",
                "=",
                "100",
                "%",
                "15",
                "long_term",
            ),
            _indicator("benefit", "sustainable", "换届违纪违法问题查处率", "=", "100", "%", "10"),
            _indicator("satisfaction", "beneficiary", "党员群众满意度", "≥", "90", "%", "10"),
        ],
        "milestones": [
            {
                "task": "成立换届工作领导小组办公室和县级工作专班",
                "starts": "2025-09-01",
                "due": "2025-09-30",
                "activity": "切实加强党的领导",
            },
            {
                "task": "召开动员大会和培训会议",
                "starts": "2025-10-01",
                "due": "2025-11-30",
                "activity": "树立正确的选人用人导向",
            },
            {
                "task": "征订学习用书、编印文件资料",
                "starts": "2025-10-01",
                "due": "2025-12-31",
                "activity": "强化工作统筹",
            },
            {
                "task": "村（社区）党组织换届选举",
                "starts": "2026-01-01",
                "due": "2026-02-28",
                "activity": "积极稳妥推进基层民主",
            },
            {
                "task": "村（居）民委员会换届选举",
                "starts": "2026-02-01",
                "due": "2026-03-31",
                "activity": "严明换届纪律",
            },
        ],
    },
    PARTY_BUILDING_TITLE: {
        "project_code": "530427-2025-ZZB-002",
        "category": "other_operating",
        "novelty": "continuing",
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
        "contact_person": "张华",
        "contact_phone": "13800000000",
        "for_publication": True,
        "basis_documents": [
            {"title": "《2024年玉溪市基层党建工作实施方案》", "number": "玉办通〔2024〕19号"},
            {"title": "《2024年新平县基层党建工作实施方案》", "number": "新办通〔2024〕9号"},
        ],
        "breakdown": [
            {
                "item": "基层党建调研、考核及会议经费",
                "amount": "180000.00",
                "basis": "调研 8 项、考核述职 1 次、会议 6 次",
                "source": "local",
            },
            {
                "item": "党内统计工作经费",
                "amount": "30000.00",
                "basis": "7 月、12 月各集中会审 1 次，每次 15,000元",
                "source": "local",
            },
            {
                "item": "村（社区）小组干部团体意外伤害保险",
                "amount": "366200.00",
                "basis": "3,662 名小组干部，每人 100元",
                "source": "local",
            },
            {
                "item": "现代远程教育站点专线及运行维护",
                "amount": "174000.00",
                "basis": "145 个站点，每个 1,200元",
                "source": "transfer",
            },
            {
                "item": "党员教育培训及教育片拍摄",
                "amount": "120000.00",
                "basis": "县级示范培训 3 期，每期 30,000元；教育片 2 部，每部 15,000元",
                "source": "local",
            },
            {
                "item": "春节、七一慰问",
                "amount": "38000.00",
                "basis": "慰问 38 名党员，每人 1,000元",
                "source": "local",
            },
            {
                "item": "机关党支部及离退休党支部活动经费",
                "amount": "25000.00",
                "basis": "研学 1 次、观影 1 次、党课及党员大会每季度 1 次",
                "source": "local",
            },
            {
                "item": "“红色物业”“红旗小区”创建经费",
                "amount": "100000.00",
                "basis": "县级“红旗小区”评选及小区党支部书记培训",
                "source": "local",
            },
            {
                "item": "“社区合伙人”项目补助",
                "amount": "100000.00",
                "basis": "10 个合伙人项目，每个 10,000元",
                "source": "local",
            },
            {
                "item": "党群服务中心服务活动经费",
                "amount": "94500.00",
                "basis": "送春联、七一、寒暑假实践、“多站融入”、商圈“红色驿站”等活动",
                "source": "local",
            },
        ],
        "yearly_amounts": [],
        "target_overall": (
            "持续推进基层党建高质量发展，严密党的组织体系，提升党建引领基层治理水平。"
        ),
        "target_annual": (
            "2025年为 3,662 名小组干部购买团体意外伤害保险，保障 145 个远程教育站点运行，"
            "举办党员教育培训 3 期，支持 10 个社区合伙人项目。"
        ),
        "indicators": [
            _indicator(
                "output", "quantity", "购买团体意外伤害保险的小组干部", "=", "3662", "人", "15"
            ),
            _indicator("output", "quantity", "远程教育站点专线提速", "=", "145", "个", "10"),
            _indicator("output", "quantity", "举办党员教育培训班", "≥", "3", "期", "10"),
            _indicator("output", "quantity", "支持社区合伙人项目", "=", "10", "个", "10"),
            _indicator("output", "quantity", "拍摄党员教育片", "≥", "2", "部", "5"),
            _indicator("output", "quality", "远程教育站点正常运行率", "≥", "95", "%", "10"),
            _indicator("output", "timeliness", "慰问按时完成率", "=", "100", "%", "5"),
            _indicator("output", "cost", "小组干部人均保费", "≤", "100", "元/人", "5"),
            _indicator("benefit", "social", "软弱涣散基层党组织整顿转化率", "=", "100", "%", "10"),
            _indicator(
                "benefit",
                "sustainable",
                "评选县级“红旗小区”",
                "≥",
                "5",
                "个",
                "10",
                "long_term",
            ),
            _indicator("satisfaction", "beneficiary", "党员群众满意度", "≥", "90", "%", "10"),
        ],
        "milestones": [
            {
                "task": "基层党建调研、检查、述职考核和会议",
                "starts": "2025-01-01",
                "due": "2025-12-31",
                "activity": "基层党建工作",
            },
            {
                "task": "为小组干部投保团体意外伤害保险",
                "starts": "2025-01-01",
                "due": "2025-03-31",
                "activity": "村（社区）小组干部购买团体意外伤害保险工作",
            },
            {
                "task": "春节慰问",
                "starts": None,
                "due": "2025-01-25",
                "activity": "县委县直机关工委春节、七一慰问工作",
            },
            {
                "task": "七一慰问",
                "starts": None,
                "due": "2025-07-01",
                "activity": "县委县直机关工委春节、七一慰问工作",
            },
            {
                "task": "举办县级培训班，拍摄党员教育片",
                "starts": "2025-04-01",
                "due": "2025-08-31",
                "activity": "党员干部现代远程教育工作",
            },
            {
                "task": "机关党支部及离退休党支部活动",
                "starts": "2025-01-01",
                "due": "2025-12-31",
                "activity": "机关党支部及离退休党支部工作",
            },
            {
                "task": "评选县级“红旗小区”",
                "starts": "2025-01-01",
                "due": "2025-12-31",
                "activity": "党建引领“红色物业”“红旗小区”创建工作",
            },
            {
                "task": "社区合伙人项目申报与实施",
                "starts": "2025-03-01",
                "due": "2025-12-31",
                "activity": "“社区合伙人”工作",
            },
            {
                "task": "党群服务中心系列服务活动",
                "starts": "2025-01-01",
                "due": "2025-12-31",
                "activity": "党建服务中心服务党员群众工作",
            },
        ],
    },
}
