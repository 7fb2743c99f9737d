//! Which accounts a figure covers, their local "today", and what can go wrong reading.

use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::emag_account;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value};

use super::period::PeriodError;
use crate::clock;

/// One account or all of them.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `None`: every account.
    pub account: Option<String>,
    /// Where "today" is: the account's platform, Romania's for all accounts.
    pub tz: Tz,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("account: no eMAG account named {0:?}")]
    UnknownAccount(String),
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// Sums in different currencies mean nothing: the caller narrows the accounts or
    /// the period.
    #[error(
        "account: the orders of this period are in more than one currency ({}); \
         ask for one account, or a period with one currency",
        .0.join(", ")
    )]
    MixedCurrencies(Vec<String>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl AnalyticsError {
    /// The request parameter to correct; none for a database failure.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AnalyticsError::UnknownAccount(_) | AnalyticsError::MixedCurrencies(_) => {
                Some("account")
            }
            AnalyticsError::Period(p) => Some(p.field()),
            AnalyticsError::Db(_) => None,
        }
    }
}

impl Scope {
    /// The named account (it must exist), or every account.
    pub async fn resolve<C: ConnectionTrait>(
        conn: &C,
        account: Option<&str>,
    ) -> Result<Scope, AnalyticsError> {
        let Some(name) = account.filter(|a| !a.is_empty() && *a != "all") else {
            return Ok(Scope {
                account: None,
                tz: clock::platform_tz(None),
            });
        };
        let found = emag_account::Entity::find()
            .filter(emag_account::Column::Name.eq(name))
            .one(conn)
            .await?
            .ok_or_else(|| AnalyticsError::UnknownAccount(name.to_owned()))?;
        Ok(Scope {
            account: Some(found.name),
            tz: clock::platform_tz(found.platform),
        })
    }

    /// The scope's local day now.
    pub fn today(&self) -> NaiveDate {
        clock::now_local(self.tz).date()
    }

    /// ` AND {column} = ?` with its value when one account is asked for.
    pub(crate) fn condition(&self, column: &str, values: &mut Vec<Value>) -> String {
        match &self.account {
            Some(name) => {
                values.push(name.as_str().into());
                format!(" AND {column} = ?")
            }
            None => String::new(),
        }
    }
}
