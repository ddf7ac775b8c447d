from workflow import services
from workflow.management.commands._roles import RoleCommand


class Command(RoleCommand):
    help = "Revoke USER's ROLE, for one department (--department CODE) or all. Audited."
    change = staticmethod(services.revoke_role)
    done = "revoked {role} from {user} for {where}"
    unchanged = "{user} did not hold {role} for {where}"
