//! Tenant budgets (sql/migrations/0034_budgets.sql): four meters, limits per period from the
//! workspace's plan. A spender [`reserve`]s the most its call can cost before the call and
//! [`settle`]s what it really cost afterwards (0 when the call failed); the database refuses a
//! reservation that would take reserved + spent past the limit, and parallel reservations queue
//! on the usage row, so no number of isolates can overshoot together. Both run as the caller (a
//! member of the workspace, or the service role for webhook paths).

use std::fmt;

use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// What a budget counts. Units: [`Meter::Ai`] and [`Meter::Embedding`] in model tokens,
/// [`Meter::File`] in bytes, [`Meter::Sending`] in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Meter {
    Ai,
    File,
    Embedding,
    Sending,
}

impl Meter {
    pub const ALL: [Meter; 4] = [Meter::Ai, Meter::File, Meter::Embedding, Meter::Sending];

    /// The name in SQL, in the 429 answer and in the usage read.
    pub fn as_str(self) -> &'static str {
        match self {
            Meter::Ai => "ai",
            Meter::File => "file",
            Meter::Embedding => "embedding",
            Meter::Sending => "sending",
        }
    }
}

impl fmt::Display for Meter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An open reservation: settle it exactly once with [`settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: String,
    pub meter: Meter,
    pub amount: i64,
}

/// The budget of `meter` cannot hold the amount this period (answer 429 `budget_exhausted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted {
    pub meter: Meter,
}

/// Reserves `amount` (at least 1) of `meter` for the workspace in the current period.
/// [`DbError::PermissionDenied`] when the caller may not spend there (not a member of a live
/// workspace); `Ok(Err(BudgetExhausted))` when the budget cannot hold it.
pub async fn reserve(
    tx: &Transaction<'_>,
    workspace_id: &str,
    meter: Meter,
    amount: i64,
) -> Result<Result<Reservation, BudgetExhausted>, DbError> {
    let rows = tx
        .query_typed(
            "select private.reserve_budget($1::uuid, $2, $3)::text",
            &[
                (&workspace_id, Type::TEXT),
                (&meter.as_str(), Type::TEXT),
                (&amount, Type::INT8),
            ],
        )
        .await?;
    Ok(match single_value::<Option<String>>(rows)? {
        Some(id) => Ok(Reservation { id, meter, amount }),
        None => Err(BudgetExhausted { meter }),
    })
}

/// Books `spent` (clamped to 0..=the reserved amount) and releases the rest. Answers the amount
/// booked, or `None` when the reservation was no longer open (settled before, or expired and
/// charged in full).
pub async fn settle(
    tx: &Transaction<'_>,
    reservation: &Reservation,
    spent: i64,
) -> Result<Option<i64>, DbError> {
    let rows = tx
        .query_typed(
            "select private.settle_budget($1::uuid, $2)",
            &[(&reservation.id, Type::TEXT), (&spent, Type::INT8)],
        )
        .await?;
    single_value(rows)
}

/// The workspace's plan and, per meter, this period's limit, spent, reserved and remaining, for
/// its owners and admins: `{"workspace_id","plan","meters":[{"meter","unit","period",
/// "period_start","period_end","limit","spent","reserved","remaining"}]}`. A plain member gets
/// [`DbError::WrongRole`], anyone else [`DbError::NotFound`].
pub async fn usage(tx: &Transaction<'_>, workspace_id: &str) -> Result<String, DbError> {
    crate::managed::for_managers(
        tx,
        "select json_build_object(
                  'workspace_id', $1::uuid,
                  'plan', min(l.plan),
                  'meters', coalesce(json_agg(json_build_object(
                      'meter', l.meter,
                      'unit', case l.meter when 'file' then 'bytes' when 'sending' then 'messages'
                                           else 'tokens' end,
                      'period', l.period, 'period_start', l.period_start,
                      'period_end', l.period_end, 'limit', l.limit_amount,
                      'spent', coalesce(u.spent, 0), 'reserved', coalesce(u.reserved, 0),
                      'remaining', greatest(l.limit_amount - coalesce(u.spent, 0)
                                            - coalesce(u.reserved, 0), 0))
                    order by l.meter), '[]'))::text
           from private.budget_limits_for($1::uuid) l
           left join public.budget_usage u
             on u.workspace_id = $1::uuid and u.meter = l.meter
            and u.period_start = l.period_start",
        &[(&workspace_id, Type::TEXT)],
    )
    .await
}
