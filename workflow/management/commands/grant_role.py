from workflow import services
from workflow.management.commands._roles import RoleCommand


class Command(RoleCommand):
    help = "Grant USER the ROLE, for one department (--department CODE) or all. Audited."
    change = staticmethod(services.grant_role)
    done = "granted {role} to {user} for {where}"
    unchanged = "{user} already holds {role} for {where}"
