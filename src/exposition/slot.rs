//! A target's place in the exposition: one live slot per identity, claimed by one
//! target, its series removed when the slot is dropped.

use std::io;
use std::sync::Arc;

use super::Exposition;
use crate::model::{TargetId, TargetSnapshot};

impl Exposition {
    /// The place of identity `id` in the exposition, for the target `owner` (the name
    /// logs give it): what it publishes replaces its previous series, and dropping it
    /// removes them. Refused while another slot of `id` lives, so one identity is
    /// published by one target.
    pub(crate) fn claim(
        self: &Arc<Self>,
        id: TargetId,
        owner: Arc<str>,
    ) -> Result<TargetSlot, Taken> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(holder) = claims.get(&id) {
            return Err(Taken {
                id,
                holder: Arc::clone(holder),
            });
        }
        claims.insert(id.clone(), owner);
        Ok(TargetSlot {
            exposition: Arc::clone(self),
            id,
        })
    }

    /// Returns once no slot of identity `id` lives (at once if none does).
    pub(crate) async fn released(&self, id: &TargetId) {
        loop {
            // Registered before the look, so a slot dropped in between still wakes it.
            let mut released = std::pin::pin!(self.released.notified());
            released.as_mut().enable();
            let held = self
                .claims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(id);
            if !held {
                return;
            }
            released.await;
        }
    }
}

/// A claim refused: another target holds a slot for that identity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{holder} already publishes {id}")]
pub(crate) struct Taken {
    /// The identity claimed.
    pub(crate) id: TargetId,
    /// The name of the target holding it.
    pub(crate) holder: Arc<str>,
}

/// A target's place in the [`Exposition`]; its series leave with it.
#[derive(Debug)]
pub(crate) struct TargetSlot {
    exposition: Arc<Exposition>,
    id: TargetId,
}

impl TargetSlot {
    /// The identity the target's series are published under.
    pub(crate) fn id(&self) -> &TargetId {
        &self.id
    }

    /// Replaces the target's series with those of `snapshot`.
    pub(crate) fn publish(&self, snapshot: &TargetSnapshot) -> io::Result<usize> {
        self.exposition.publish(&self.id, snapshot)
    }
}

impl Drop for TargetSlot {
    fn drop(&mut self) {
        // Series first: once the claim is released another target may publish `id`,
        // and this removal must not take its series.
        self.exposition.remove(&self.id);
        self.exposition
            .claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
        self.exposition.released.notify_waiters();
    }
}
