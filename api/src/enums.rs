//! The domain's fixed sets as the API shows them: each a poem-openapi enum, so the OpenAPI
//! document lists the allowed values, and a serde enum, so a request naming another value
//! gets 422 naming the field. Each mirrors one domain enum, variant for variant (the
//! conversions are exhaustive matches both ways, so a new variant fails to compile here
//! until it is added); the wire names are the stored ones.

use entity::{
    api_key::Role as KeyRole,
    audit_log::Action as StoredAction,
    emag_account::{AccountKind as StoredAccountKind, Platform as StoredPlatform},
    job_run::{ErrorCategory, JobKind, RunStatus},
    notification_subscription::{Locale as StoredLocale, NotifyOn as StoredNotifyOn},
    run_event::{AttemptOutcome, Level as EventLevel},
    schedule::{Misfire as ScheduleMisfire, Overlap as ScheduleOverlap},
};

use jobs::accounts::CheckStatus;

use crate::error::ApiError;

/// A query or body field naming one error category: `None` when absent, 422 naming the
/// field when it names none.
pub fn category(field: &str, given: Option<&str>) -> Result<Option<ErrorCategory>, ApiError> {
    given
        .map(|g| {
            ErrorCategory::parse(g).ok_or_else(|| {
                let names: Vec<&str> = ErrorCategory::ALL.iter().map(|c| c.as_str()).collect();
                ApiError::invalid(
                    field,
                    format!(
                        "unknown category {g:?}; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
        })
        .transpose()
}

macro_rules! mirror {
    // Wire names in snake_case, from the variants' names.
    ($(#[$meta:meta])* $name:ident = $domain:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(poem_openapi::Enum, serde::Serialize, Clone, Copy, Debug, PartialEq, Eq)]
        #[oai(rename_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }
        mirror!(@impls $name = $domain { $($variant),+ });
    };
    // Wire names given.
    ($(#[$meta:meta])* $name:ident = $domain:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(poem_openapi::Enum, serde::Serialize, Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $(
                #[oai(rename = $wire)]
                #[serde(rename = $wire)]
                $variant
            ),+
        }
        mirror!(@impls $name = $domain { $($variant),+ });
    };
    (@impls $name:ident = $domain:ident { $($variant:ident),+ }) => {
        impl $name {
            const ALL: &[$name] = &[$($name::$variant),+];
        }

        #[cfg(test)]
        impl $name {
            /// Each value travels (serde) and is documented (poem-openapi) under its
            /// domain's stored name, and converts back to the same domain value.
            fn check_wire_names() {
                use poem_openapi::types::ToJSON;
                for v in $name::ALL {
                    let stored = $domain::from(*v).as_str();
                    assert_eq!(serde_json::to_value(v).expect("json"), stored);
                    assert_eq!(v.to_json(), Some(serde_json::json!(stored)));
                    assert_eq!($name::from($domain::from(*v)), *v);
                }
            }
        }

        // By hand: serde's derived enum reads a number as a JSON syntax error (400); any
        // value that is not one of the names is the client's mistake in that field (422).
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let given = String::deserialize(d)?;
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| $domain::from(*v).as_str() == given)
                    .ok_or_else(|| {
                        let names: Vec<&str> =
                            $name::ALL.iter().map(|v| $domain::from(*v).as_str()).collect();
                        serde::de::Error::custom(format!(
                            "unknown value {given:?}; expected one of {}",
                            names.join(", ")
                        ))
                    })
            }
        }

        impl From<$domain> for $name {
            fn from(v: $domain) -> Self {
                match v {
                    $($domain::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for $domain {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => $domain::$variant),+
                }
            }
        }
    };
}

mirror!(
    /// A job kind: what a run does.
    Kind = JobKind { Sync, BulkUpdate, Export, Notification, Report, Ping }
);

mirror!(
    /// Where a run is in its life.
    Status = RunStatus { Queued, Running, Succeeded, Failed, Cancelled, Dead }
);

mirror!(
    /// What a key may do: `admin` reads and changes, `viewer` reads and streams.
    Role = KeyRole { Admin, Viewer }
);

mirror!(
    /// Why a run failed, in words an operator can filter on.
    Category = ErrorCategory {
        Transient,
        InvalidInput,
        Timeout,
        Panic,
        NotImplemented,
        BadPayload,
        Permanent,
        BadCredentials,
        IpNotWhitelisted,
        EmagUnavailable,
        EmagRejected,
        NotConfigured,
        EmailRejected,
        Credentials,
        UnexpectedRedirect,
        AccountDeleted,
        SmtpConfig,
        WorkerLost,
    }
);

mirror!(
    /// How much a run's log line matters.
    Level = EventLevel { Info, Warn, Error }
);

mirror!(
    /// How one attempt of a run ended.
    Outcome = AttemptOutcome { Succeeded, Cancelled, Failed, Dead, Retry, HandedBack, Paused, Lost }
);

mirror!(
    /// What a schedule does when a tick comes while its previous run is active.
    Overlap = ScheduleOverlap { Skip, Allow }
);

mirror!(
    /// What a schedule does with ticks missed while no worker ran.
    Misfire = ScheduleMisfire { Skip, RunOnce }
);

mirror!(
    /// Which of a seller's eMAG accounts: `main` (offers the seller ships) or `fbe`
    /// (fulfilled by eMAG).
    AccountKind = StoredAccountKind { Main, Fbe }
);

mirror!(
    /// An eMAG marketplace by country: its API host.
    Platform = StoredPlatform { Ro, Bg, Hu }
);

mirror!(
    /// What an audited change did: `<what>.<verb>`.
    AuditAction = StoredAction {
        AccountCreate = "account.create",
        AccountUpdate = "account.update",
        AccountDelete = "account.delete",
        ApiKeyCreate = "api_key.create",
        ApiKeyRevoke = "api_key.revoke",
        ApiKeyRotate = "api_key.rotate",
        NotificationSubscribe = "notification.subscribe",
        NotificationUnsubscribe = "notification.unsubscribe",
        NotificationUnsuppress = "notification.unsuppress",
        QueuePause = "queue.pause",
        QueueResume = "queue.resume",
        RetentionPurge = "retention.purge",
        RunCreate = "run.create",
        RunCancel = "run.cancel",
        RunRetry = "run.retry",
        RunRetryMany = "run.retry_many",
        RunDiscard = "run.discard",
        RunDiscardMany = "run.discard_many",
        ScheduleCreate = "schedule.create",
        ScheduleUpdate = "schedule.update",
        ScheduleDelete = "schedule.delete",
        SchedulePause = "schedule.pause",
        ScheduleResume = "schedule.resume",
        ScheduleTrigger = "schedule.trigger",
        SessionSignIn = "session.sign_in",
        SessionSignInFailed = "session.sign_in_failed",
        SessionSignOut = "session.sign_out",
        SessionSignOutAll = "session.sign_out_all",
        UserCreate = "user.create",
        UserUpdate = "user.update",
        UserDelete = "user.delete",
    }
);

mirror!(
    /// How a check of an account's login ended.
    CheckResult = CheckStatus {
        Ok,
        BadCredentials,
        IpNotWhitelisted,
        Unreachable,
        NeedsPassword,
        Error,
    }
);

mirror!(
    /// Which ends of a run a subscription hears about: `success`, `failure` (failed or
    /// dead) or `both` (also cancelled).
    NotifyOn = StoredNotifyOn { Success, Failure, Both }
);

mirror!(
    /// The language of what magflow writes to people: Romanian or English.
    Locale = StoredLocale { Ro, En }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_but_a_known_name_is_refused_as_data() {
        for bad in ["5", "null", r#""Sync""#, r#""nope""#, "[]"] {
            let e = serde_json::from_str::<Kind>(bad).expect_err(bad);
            assert_eq!(
                e.classify(),
                serde_json::error::Category::Data,
                "{bad}: {e}"
            );
        }
        assert_eq!(
            serde_json::from_str::<Kind>(r#""bulk_update""#).expect("known"),
            Kind::BulkUpdate
        );
    }

    #[test]
    fn wire_names_are_the_stored_names() {
        Kind::check_wire_names();
        Status::check_wire_names();
        Role::check_wire_names();
        Category::check_wire_names();
        Level::check_wire_names();
        Outcome::check_wire_names();
        Overlap::check_wire_names();
        Misfire::check_wire_names();
        AccountKind::check_wire_names();
        Platform::check_wire_names();
        AuditAction::check_wire_names();
        NotifyOn::check_wire_names();
        Locale::check_wire_names();
        CheckResult::check_wire_names();
        // Every stored action is shown: the mirror lists them all.
        assert_eq!(AuditAction::ALL.len(), StoredAction::ALL.len());
    }
}
