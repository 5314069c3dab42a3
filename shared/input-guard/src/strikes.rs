//! Repeated blocked attempts turn into a temporary block that grows with each further strike.
//! Pure logic: the caller keeps the strike times (one per blocked input) and asks, given them
//! and now, whether the user is blocked and until when.

/// Seconds since the Unix epoch; the caller's clock (the Worker's `Date.now()`).
pub type UnixSeconds = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrikePolicy {
    /// Strikes older than this are forgotten.
    pub lookback_secs: u64,
    /// Strikes within the lookback that start a block.
    pub threshold: u32,
    /// Length of the first block.
    pub first_block_secs: u64,
    /// Each strike past the threshold multiplies the block by this.
    pub growth: u32,
    /// No block lasts longer than this.
    pub max_block_secs: u64,
}

impl Default for StrikePolicy {
    /// 3 strikes within a week block for 5 min, then 20 min, 80 min, … up to 24 h.
    fn default() -> Self {
        StrikePolicy {
            lookback_secs: 7 * 24 * 3600,
            threshold: 3,
            first_block_secs: 5 * 60,
            growth: 4,
            max_block_secs: 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Clear,
    Blocked {
        until: UnixSeconds,
        /// For `Retry-After`; at least 1.
        retry_after_secs: u64,
    },
}

impl StrikePolicy {
    /// Strikes in the future (clock skew between isolates) count as now.
    pub fn standing(&self, strikes: &[UnixSeconds], now: UnixSeconds) -> Standing {
        let since = now.saturating_sub(self.lookback_secs);
        let recent = strikes.iter().map(|&s| s.min(now)).filter(|&s| s > since);
        let (count, latest) = recent.fold((0u32, 0), |(n, latest), s| {
            (n.saturating_add(1), latest.max(s))
        });
        if count < self.threshold.max(1) {
            return Standing::Clear;
        }
        let until = latest.saturating_add(self.block_secs(count));
        if now < until {
            Standing::Blocked {
                until,
                retry_after_secs: until - now,
            }
        } else {
            Standing::Clear
        }
    }

    /// The block that `count` recent strikes earn.
    pub fn block_secs(&self, count: u32) -> u64 {
        let steps = count.saturating_sub(self.threshold.max(1));
        let mut secs = self.first_block_secs;
        for _ in 0..steps {
            if secs >= self.max_block_secs {
                break;
            }
            secs = secs.saturating_mul(u64::from(self.growth));
        }
        secs.min(self.max_block_secs)
    }

    /// The strikes a store still needs to keep (the rest can be deleted).
    pub fn keep(&self, strikes: &[UnixSeconds], now: UnixSeconds) -> Vec<UnixSeconds> {
        let since = now.saturating_sub(self.lookback_secs);
        strikes
            .iter()
            .copied()
            .filter(|&s| s.min(now) > since)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixSeconds = 1_800_000_000;
    const MIN: u64 = 60;

    #[test]
    fn strikes_below_the_threshold_do_not_block() {
        let policy = StrikePolicy::default();
        assert_eq!(policy.standing(&[], T0), Standing::Clear);
        assert_eq!(policy.standing(&[T0 - 10, T0], T0), Standing::Clear);
    }

    #[test]
    fn the_third_strike_blocks_and_the_block_expires() {
        let policy = StrikePolicy::default();
        let strikes = [T0, T0 + 30, T0 + 60];
        assert_eq!(
            policy.standing(&strikes, T0 + 60),
            Standing::Blocked {
                until: T0 + 60 + 5 * MIN,
                retry_after_secs: 5 * MIN
            }
        );
        assert_eq!(
            policy.standing(&strikes, T0 + 60 + 4 * MIN),
            Standing::Blocked {
                until: T0 + 60 + 5 * MIN,
                retry_after_secs: MIN
            }
        );
        assert_eq!(
            policy.standing(&strikes, T0 + 60 + 5 * MIN),
            Standing::Clear
        );
    }

    #[test]
    fn each_further_strike_escalates_up_to_the_cap() {
        let policy = StrikePolicy::default();
        let mut strikes = vec![T0, T0 + 1, T0 + 2];
        let mut now = T0 + 2;
        let mut lengths = Vec::new();
        for _ in 0..6 {
            let Standing::Blocked { until, .. } = policy.standing(&strikes, now) else {
                panic!("blocked after {} strikes", strikes.len())
            };
            lengths.push(until - now);
            // The user comes back once the block is over and strikes again.
            now = until;
            assert_eq!(policy.standing(&strikes, now), Standing::Clear);
            strikes.push(now);
        }
        assert_eq!(
            lengths,
            [
                5 * MIN,
                20 * MIN,
                80 * MIN,
                320 * MIN,
                1280 * MIN,
                1440 * MIN
            ]
        );
    }

    #[test]
    fn old_strikes_are_forgotten() {
        let policy = StrikePolicy::default();
        let week = 7 * 24 * 3600;
        let strikes = [T0, T0 + 1, T0 + week + 5];
        assert_eq!(policy.standing(&strikes, T0 + week + 5), Standing::Clear);
        assert_eq!(policy.keep(&strikes, T0 + week + 5), [T0 + week + 5]);
    }

    #[test]
    fn future_strikes_count_as_now() {
        let policy = StrikePolicy::default();
        let skewed = [T0, T0, T0 + 3600];
        assert_eq!(
            policy.standing(&skewed, T0),
            Standing::Blocked {
                until: T0 + 5 * MIN,
                retry_after_secs: 5 * MIN
            }
        );
    }

    #[test]
    fn huge_counts_and_growth_saturate() {
        let policy = StrikePolicy {
            growth: u32::MAX,
            ..StrikePolicy::default()
        };
        assert_eq!(policy.block_secs(u32::MAX), policy.max_block_secs);
        let strikes = vec![T0; 10_000];
        assert!(matches!(
            policy.standing(&strikes, T0),
            Standing::Blocked { .. }
        ));
    }
}
