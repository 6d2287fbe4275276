//! Clips: planning a cut around a moment (which recording, which span), running the cuts off
//! the recorder's loop, and writing the finished clip's row.
//!
//! Invariants: the cuts run one after another on a tracked task that races the recorder's token
//! (ffmpeg is killed with it) and never in the actor's loop; each result comes back through the
//! recorder's mailbox as [`Command::CutDone`], so the `clips` row is written by the actor (the
//! only writer) and only after the clip file is complete.

use std::time::Duration;

use super::{refused, Actor, Command, Reply};
use crate::actor::spawn_racing;
use crate::api::{ApiError, Clip, CoreEvent, ErrorCode};
use crate::clock::now_ms;
use crate::db::{write_then_announce, NewClip};
use crate::recorder::cut::{cut_clip, CutClip, CutError, CutRequest};

/// A clip to cut: what ffmpeg is asked, and the rows it belongs to.
pub(super) struct CutPlan {
    moment_id: i64,
    recording_id: i64,
    request: CutRequest,
}

pub(super) struct FinishedCut {
    plan: CutPlan,
    result: Result<CutClip, CutError>,
    /// The streamer waiting for it (`None` for automatic cuts).
    reply: Option<Reply<Clip>>,
}

impl Actor {
    /// Cuts a clip for every moment inside the recording that just ended, if auto-cut is on.
    /// The cuts run one after another off the loop.
    pub(super) async fn auto_cut(&mut self, recording_id: i64) {
        if !self.settings.auto_cut {
            return;
        }
        let Ok(Some(rec)) = self.setup.db.recordings().get(recording_id).await else {
            return;
        };
        let end = rec.ended_at_ms.unwrap_or_else(now_ms);
        let ids = self
            .setup
            .db
            .moments()
            .started_between(rec.started_at_ms, end)
            .await
            .unwrap_or_default();
        let mut plans = Vec::new();
        for id in ids {
            match self.plan_cut(id).await {
                Ok(plan) => plans.push((plan, None)),
                Err(e) => tracing::warn!(moment_id = id, error = %e, "could not cut a clip"),
            }
        }
        self.spawn_cuts(plans);
    }

    /// What cutting a clip around `moment_id` means: which recording, which span.
    pub(super) async fn plan_cut(&self, moment_id: i64) -> Result<CutPlan, ApiError> {
        let moment = self
            .setup
            .db
            .moments()
            .get(moment_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                ApiError::new(ErrorCode::UnknownMoment, format!("No moment #{moment_id}."))
            })?;
        let at = moment.started_at_ms;
        let rec = self
            .setup
            .db
            .recordings()
            .covering(at)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| refused("No recording covers this moment: record the stream first."))?;
        let Some(path) = rec.path.clone() else {
            return Err(refused(
                "OBS is still recording this: stop the recording to cut (OBS names the file when it stops).",
            ));
        };
        let pre = Duration::from_secs(self.settings.pre_seconds.into());
        let post = Duration::from_secs(self.settings.post_seconds.into());
        let from = Duration::from_millis((at - rec.started_at_ms).max(0) as u64);
        let until_ms = moment.ended_at_ms.unwrap_or(at);
        let to = Duration::from_millis((until_ms - rec.started_at_ms).max(0) as u64) + post;
        let request = CutRequest {
            ffmpeg: self.setup.ffmpeg.clone(),
            ..CutRequest::new(
                &path,
                from.saturating_sub(pre),
                to,
                &self.setup.folders.borrow().clips_dir,
                format!("moment-{moment_id}"),
            )
        };
        Ok(CutPlan {
            moment_id,
            recording_id: rec.id,
            request,
        })
    }

    /// Runs the cuts in order on a tracked task that stops when the recorder's token is
    /// cancelled (ffmpeg is killed with it); each result comes back as [`Command::CutDone`].
    pub(super) fn spawn_cuts(&self, plans: Vec<(CutPlan, Option<Reply<Clip>>)>) {
        if plans.is_empty() {
            return;
        }
        let mailbox = self.mailbox.clone();
        let work = async move {
            for (plan, reply) in plans {
                let result = cut_clip(&plan.request).await;
                let done = FinishedCut {
                    plan,
                    result,
                    reply,
                };
                if mailbox
                    .tell(Command::CutDone(Box::new(done)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        };
        spawn_racing(&self.tracker, self.cancel.clone(), work, |r| async move {
            if r.is_none() {
                tracing::info!("clip cutting stopped: StreamCue is shutting down");
            }
        });
    }

    pub(super) async fn on_cut_done(&mut self, done: FinishedCut) {
        let FinishedCut {
            plan,
            result,
            reply,
        } = done;
        let moment_id = plan.moment_id;
        let written = self.write_clip(plan, result).await;
        match (&written, reply) {
            (_, Some(reply)) => drop(reply.send(written)),
            (Ok(c), None) => tracing::info!(moment_id, clip = %c.path, "clip cut automatically"),
            (Err(e), None) => tracing::warn!(moment_id, error = %e, "could not cut a clip"),
        }
    }

    async fn write_clip(
        &mut self,
        plan: CutPlan,
        result: Result<CutClip, CutError>,
    ) -> Result<Clip, ApiError> {
        let cut = result?;
        let path = cut.path.display().to_string();
        let new = NewClip {
            moment_id: plan.moment_id,
            recording_id: plan.recording_id,
            path: &path,
            start_ms: cut.actual_start.as_millis() as i64,
            end_ms: cut.actual_end.as_millis() as i64,
            widened_ms: cut.widened_by.as_millis() as i64,
            bytes: cut.bytes as i64,
        };
        let write = self.setup.db.recordings().insert_clip(&new, now_ms());
        let clip = write_then_announce(&self.setup.events, "a clip", write, |clip| {
            vec![CoreEvent::Clip {
                clip: clip.clone().into(),
            }]
        })
        .await
        .map_err(ApiError::from)?;
        tracing::info!(moment_id = plan.moment_id, clip = %clip.path, widened_ms = clip.widened_ms, "clip cut");
        Ok(clip.into())
    }
}
