-- Run once by the postgres image when its data volume is new: the role the application
-- connects as. It owns nothing; `manage.py secure_database_role workflow_app` (run by the
-- owner after each migrate) grants it ordinary access and append-only access to the audit.
CREATE ROLE workflow_app LOGIN PASSWORD 'workflow_app';
