//! Periodic work, run by every instance (each step is safe to run twice at once).

use std::sync::Arc;

use crate::app::App;
use crate::store::db::now;
use crate::store::objects::forget_image;
use crate::store::{accounts, advice, diaries};

/// Hard-deletes accounts past their deletion date, with their diaries (by cascade) and the
/// images they uploaded: profile picture and drawings (contract §6; the original left the
/// images behind).
pub async fn purge_deleted_accounts(app: &App) -> anyhow::Result<usize> {
    let at = now();
    let due = accounts::users_due_for_deletion(&app.db, at).await?;
    let mut deleted = 0;
    for user in due {
        let drawings = diaries::images_of(&app.db, user.id).await?;
        // The row goes first: if it was cancelled in the meantime nothing is touched.
        if accounts::delete_user_if_due(&app.db, user.id, at).await? {
            forget_image(&*app.objects, user.profile_img.as_deref()).await;
            for url in &drawings {
                forget_image(&*app.objects, Some(url)).await;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "deleted accounts past their deletion date");
    }
    Ok(deleted)
}

pub async fn run_periodic(app: Arc<App>) {
    let mut tick = tokio::time::interval(app.config.purge_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = purge_deleted_accounts(&app).await {
            tracing::warn!(error = %e, "account purge failed; will try again");
        }
        if let Err(e) = accounts::delete_expired_signup_codes(&app.db, now()).await {
            tracing::warn!(error = %e, "sign-up code clean-up failed");
        }
        let window = chrono::TimeDelta::from_std(app.config.diary.view_window).unwrap_or_default();
        if let Err(e) = diaries::forget_views_before(&app.db, app.clock.now() - window).await {
            tracing::warn!(error = %e, "view-count clean-up failed");
        }
        // AI advice usage only counts today's; two days back covers every time zone.
        let old = app.clock.now() - chrono::TimeDelta::days(2);
        if let Err(e) = advice::forget_usage_before(&app.db, old).await {
            tracing::warn!(error = %e, "advice usage clean-up failed");
        }
        app.limits.shrink();
    }
}
