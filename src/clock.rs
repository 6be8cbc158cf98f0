//! The time the diary goes by. In production it is the system clock; a running server can be
//! moved in time through `App::clock` (tests write a diary at 23:59 Seoul time this way), which
//! nothing outside the process can reach.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

#[derive(Default)]
pub struct Clock {
    /// Microseconds added to the system time; 0 unless a test set it.
    offset_us: AtomicI64,
}

impl Clock {
    /// Now, in UTC, to the microsecond.
    pub fn now(&self) -> NaiveDateTime {
        crate::store::db::now() + TimeDelta::microseconds(self.offset_us.load(Ordering::Relaxed))
    }

    /// From now on, time runs from `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        let offset = (at - Utc::now()).num_microseconds().unwrap_or(0);
        self.offset_us.store(offset, Ordering::Relaxed);
    }
}
