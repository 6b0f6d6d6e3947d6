//! `GET /api/numbers?project=&from=&to=`: a project's numbers for a range of whole UTC days,
//! read from the rollups the writer keeps (`db::numbers`), so that its cost depends on the days
//! and pages in the range, not on the number of sessions.

use actix_web::{
    web::{self, Data, Query},
    HttpResponse,
};
use serde::Deserialize;

use crate::{
    access::SignedIn,
    api::{time_param, AppState},
    auth::projects::Scope,
    db::{numbers::day_of, numbers_query, projects},
    error::{Error, Result},
    event::{now_ms, validate_session_id},
};

/// The range when `from` is not given: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;
/// The longest range answered at once.
const MAX_DAYS: i64 = 366;
/// The last millisecond of the year 9999: later times are taken as this one.
const LAST_MS: i64 = 253_402_300_799_999;

#[derive(Deserialize)]
struct NumbersParams {
    project: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/numbers", web::get().to(get_numbers));
}

async fn get_numbers(
    state: Data<AppState>,
    who: SignedIn,
    params: Query<NumbersParams>,
) -> Result<HttpResponse> {
    let project = params
        .project
        .clone()
        .ok_or_else(|| Error::InvalidQuery("`project` is required".into()))?;
    // Every valid time is answered: times are held to 1970–9999, and a range is cut to its last
    // `MAX_DAYS` days (a `from` after `to` leaves `to`'s day alone).
    let clamp = |t: i64| t.clamp(0, LAST_MS);
    let to = time_param("to", params.to.as_deref())?.map_or_else(now_ms, clamp);
    let last = day_of(to);
    let first = match time_param("from", params.from.as_deref())? {
        Some(from) => day_of(clamp(from)),
        None => last - (DEFAULT_DAYS - 1),
    };
    let first = first.clamp(last - (MAX_DAYS - 1), last);
    let scope = Scope::load(&state.store, &who.0).await?;
    // A project the user does not see is answered like one that does not exist.
    if validate_session_id(&project).is_err() || !scope.allows(&project) {
        return Err(Error::NotFound);
    }
    let numbers = state
        .store
        .read(move |c| {
            if projects::get(c, &project)?.is_none() {
                return Err(Error::NotFound);
            }
            numbers_query::numbers(c, &project, first, last)
        })
        .await?;
    Ok(HttpResponse::Ok().json(numbers))
}
