//! The server's clock at work: opens elections whose setup is complete at their opening time
//! (when their draft asks for it), closes open elections at their closing time, and deletes the
//! voters' personal data of published elections once their retention period is over.

use std::time::Duration;

use urne_board::Phase;

use crate::AppState;
use crate::draft::StoredConfig;

/// Who the audit log names for the scheduler's actions.
pub const ACTOR: &str = "system";

/// Runs one pass: what is due now.
pub async fn tick(state: &AppState) {
    let rows = match state.blocking(|s| Ok(s.elections()?)).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "scheduler: listing elections");
            return;
        }
    };
    let now = crate::clock::now();
    for row in rows {
        match row.phase {
            Phase::Open => {
                let Ok(live) = state.live(&row.id).await else {
                    continue;
                };
                if now > live.election.manifest().closes_at.unix() {
                    match crate::admin::close(state, &row.id, ACTOR).await {
                        Ok(_) => tracing::info!(election = %row.id, "closed at the closing time"),
                        Err(e) => {
                            tracing::warn!(election = %row.id, error = %e, "scheduler: closing")
                        }
                    }
                }
            }
            Phase::Setup => {
                let Ok(config) = StoredConfig::from_json(&row.config) else {
                    continue;
                };
                let d = &config.draft;
                if d.auto_open && now >= d.opens_at.unix() && now < d.closes_at.unix() {
                    match crate::admin::open(state, &row.id, ACTOR).await {
                        Ok(_) => tracing::info!(election = %row.id, "opened at the opening time"),
                        // Setup not complete yet: tried again at the next tick.
                        Err(e) => {
                            tracing::debug!(election = %row.id, error = %e, "scheduler: not opening yet")
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Ticks forever at the configured interval.
pub async fn run(state: AppState) {
    let mut every =
        tokio::time::interval(Duration::from_secs(state.config.scheduler_seconds.max(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The retention schedule is a matter of days: a pass a minute is plenty.
    let mut last_purge: Option<std::time::Instant> = None;
    loop {
        every.tick().await;
        tick(&state).await;
        if last_purge.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            crate::voters::purge_due(&state).await;
            last_purge = Some(std::time::Instant::now());
        }
    }
}
