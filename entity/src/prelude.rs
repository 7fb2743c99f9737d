pub use crate::api_key::Entity as ApiKey;
pub use crate::audit_log::Entity as AuditLog;
pub use crate::emag_account::Entity as EmagAccount;
pub use crate::job_run::Entity as JobRun;
pub use crate::run_event::Entity as RunEvent;
