//! Spending against a tenant's budget (rls_db::budgets): reserve before the costly call, settle
//! after it. Every place that spends (assistant answers, uploads, outbound messages, embeddings)
//! goes through these, so an exhausted meter always answers 429 `budget_exhausted` with its name.

use std::future::Future;

use edge_guard::DbPrincipal;
use rls_db::budgets::{self, BudgetExhausted, Meter, Reservation};
use rls_db::{Access, RequestInfo};
use worker::Env;

use crate::{in_transaction, ApiError, Call};

/// Reserves `amount` of `meter` for the workspace as `principal` (a member, or the service role
/// for webhook paths); 429 `budget_exhausted` when the budget cannot hold it.
pub async fn reserve_budget<P: DbPrincipal + 'static>(
    env: &Env,
    principal: &P,
    request: &RequestInfo,
    workspace_id: &str,
    meter: Meter,
    amount: i64,
) -> Result<Reservation, ApiError> {
    Ok(try_reserve(env, principal, request, workspace_id, meter, amount).await??)
}

/// As [`reserve_budget`], with an exhausted budget as a value rather than an error.
pub(crate) async fn try_reserve<P: DbPrincipal + 'static>(
    env: &Env,
    principal: &P,
    request: &RequestInfo,
    workspace_id: &str,
    meter: Meter,
    amount: i64,
) -> Result<Result<Reservation, BudgetExhausted>, ApiError> {
    let workspace_id = workspace_id.to_owned();
    in_transaction(env, principal, Access::ReadWrite, request, move |tx, _| {
        Box::pin(async move { budgets::reserve(tx, &workspace_id, meter, amount).await })
    })
    .await
}

/// Books `spent` against the reservation (at most its amount; 0 for a failed call) and releases
/// the rest.
pub async fn settle_budget<P: DbPrincipal + 'static>(
    env: &Env,
    principal: &P,
    request: &RequestInfo,
    reservation: &Reservation,
    spent: i64,
) -> Result<(), ApiError> {
    let reservation = reservation.clone();
    in_transaction(env, principal, Access::ReadWrite, request, move |tx, _| {
        Box::pin(async move { budgets::settle(tx, &reservation, spent).await })
    })
    .await?;
    Ok(())
}

impl<P: DbPrincipal + 'static> Call<P> {
    /// Reserves `amount` of `meter`, runs `work` (which answers its value and what it really
    /// spent), and settles: what `work` spent, or 0 when it failed (its error is answered).
    pub async fn spend<T>(
        &self,
        workspace_id: &str,
        meter: Meter,
        amount: i64,
        work: impl Future<Output = Result<(T, i64), ApiError>>,
    ) -> Result<T, ApiError> {
        let request = crate::request_info(&self.req);
        let reservation = reserve_budget(
            &self.env,
            &self.principal,
            &request,
            workspace_id,
            meter,
            amount,
        )
        .await?;
        let outcome = work.await;
        let spent = outcome.as_ref().map_or(0, |(_, spent)| *spent);
        settle_budget(&self.env, &self.principal, &request, &reservation, spent).await?;
        outcome.map(|(value, _)| value)
    }
}
