"""Roles are constants. A role fixes the kind of place in the tree its user is bound to."""
HQ_ADMIN = "hq_admin"
DISTRIBUTOR_ADMIN = "distributor_admin"
REGIONAL_MANAGER = "regional_manager"
STORE_OWNER = "store_owner"

# Highest first: a user may only create users of their own rank or below.
ROLES = (HQ_ADMIN, DISTRIBUTOR_ADMIN, REGIONAL_MANAGER, STORE_OWNER)
RANK = {role: i for i, role in enumerate(ROLES)}

# Node kinds of the org tree.
HQ, DISTRIBUTOR, REGION = "hq", "distributor", "region"
NODE_KINDS = (HQ, DISTRIBUTOR, REGION)
# Which kind of parent each kind of node hangs under.
PARENT_KIND = {DISTRIBUTOR: HQ, REGION: DISTRIBUTOR}
# The node kind a role is bound to (store owners are bound to a store instead).
ROLE_NODE_KIND = {HQ_ADMIN: HQ, DISTRIBUTOR_ADMIN: DISTRIBUTOR, REGIONAL_MANAGER: REGION}

ADMINS = (HQ_ADMIN, DISTRIBUTOR_ADMIN)
STAFF = (HQ_ADMIN, DISTRIBUTOR_ADMIN, REGIONAL_MANAGER)
ALL = ROLES

STORE_ACTIVE, STORE_SUSPENDED, STORE_CLOSED = "active", "suspended", "closed"
STORE_STATUSES = (STORE_ACTIVE, STORE_SUSPENDED, STORE_CLOSED)
