//! Where pools deliver their logs: CloudWatch Logs log groups and Firehose delivery
//! streams per (account, region), S3 buckets in one global namespace (bucket names are
//! global, as on AWS; each bucket has an owning account and a region), and the
//! destinations that refuse to be checked. The operations on them live in `logs`, `s3`
//! and `firehose`; this module owns the data and the [`SimState`] methods tests use.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::ids::partition;
use super::state::SimState;

/// A Firehose delivery stream's `DeliveryStreamStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStreamStatus {
    /// `CREATING`: not ready yet; nothing is delivered.
    Creating,
    /// `CREATING_FAILED`.
    CreatingFailed,
    /// `DELETING`.
    Deleting,
    /// `DELETING_FAILED`.
    DeletingFailed,
    /// `ACTIVE`: the only status that delivers.
    Active,
}

impl DeliveryStreamStatus {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStreamStatus::Creating => "CREATING",
            DeliveryStreamStatus::CreatingFailed => "CREATING_FAILED",
            DeliveryStreamStatus::Deleting => "DELETING",
            DeliveryStreamStatus::DeletingFailed => "DELETING_FAILED",
            DeliveryStreamStatus::Active => "ACTIVE",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct LogGroup {
    pub(crate) kms_key_id: Option<String>,
    pub(crate) created: SystemTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    pub(crate) account: String,
    pub(crate) region: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Stream {
    pub(crate) status: DeliveryStreamStatus,
    pub(crate) created: SystemTime,
}

type Namespace = (String, String);

#[derive(Default)]
pub(crate) struct Data {
    /// By namespace, then name: the `DescribeLogGroups` order.
    pub(crate) log_groups: HashMap<Namespace, BTreeMap<String, LogGroup>>,
    pub(crate) buckets: HashMap<String, Bucket>,
    pub(crate) streams: HashMap<Namespace, BTreeMap<String, Stream>>,
    /// ARNs (log groups without `:*`) whose checks are answered with access denied.
    pub(crate) refused: HashSet<String>,
}

/// The destinations, behind one short-held lock.
#[derive(Default)]
pub(crate) struct Destinations(Mutex<Data>);

impl Destinations {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Data> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn ns(account: &str, region: &str) -> Namespace {
    (account.to_owned(), region.to_owned())
}

/// `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME`, without the `:*` suffix.
pub(crate) fn log_group_arn(account: &str, region: &str, name: &str) -> String {
    let p = partition(region);
    format!("arn:{p}:logs:{region}:{account}:log-group:{name}")
}

/// `arn:PARTITION:s3:::NAME`.
pub(crate) fn bucket_arn(region: &str, name: &str) -> String {
    format!("arn:{}:s3:::{name}", partition(region))
}

/// `arn:PARTITION:firehose:REGION:ACCOUNT:deliverystream/NAME`.
pub(crate) fn stream_arn(account: &str, region: &str, name: &str) -> String {
    let p = partition(region);
    format!("arn:{p}:firehose:{region}:{account}:deliverystream/{name}")
}

/// What `create_bucket` says about a name already taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BucketTaken {
    /// The caller's account owns it already (`BucketAlreadyOwnedByYou`).
    #[error("the bucket is already owned by this account")]
    OwnedByYou,
    /// Another account owns it (`BucketAlreadyExists`).
    #[error("the bucket name is taken by another account")]
    OwnedByOther,
}

impl SimState {
    /// Creates log group `name` in (`account`, `region`), encrypted with `kms_key_id`
    /// when given; false if it exists already (nothing changes).
    pub fn create_log_group(
        &self,
        account: &str,
        region: &str,
        name: &str,
        kms_key_id: Option<&str>,
    ) -> bool {
        let mut data = self.destinations.lock();
        let groups = data.log_groups.entry(ns(account, region)).or_default();
        if groups.contains_key(name) {
            return false;
        }
        let group = LogGroup {
            kms_key_id: kms_key_id.map(str::to_owned),
            created: SystemTime::now(),
        };
        groups.insert(name.to_owned(), group);
        true
    }

    /// Deletes a log group; false if there was none.
    pub fn delete_log_group(&self, account: &str, region: &str, name: &str) -> bool {
        let mut data = self.destinations.lock();
        data.log_groups
            .get_mut(&ns(account, region))
            .is_some_and(|groups| groups.remove(name).is_some())
    }

    /// Creates bucket `name`, owned by `account`, in `region`.
    pub fn create_bucket(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<(), BucketTaken> {
        let mut data = self.destinations.lock();
        match data.buckets.get(name) {
            Some(b) if b.account == account => Err(BucketTaken::OwnedByYou),
            Some(_) => Err(BucketTaken::OwnedByOther),
            None => {
                let bucket = Bucket {
                    account: account.to_owned(),
                    region: region.to_owned(),
                };
                data.buckets.insert(name.to_owned(), bucket);
                Ok(())
            }
        }
    }

    /// Deletes bucket `name`, whoever owns it; false if there was none.
    pub fn delete_bucket(&self, name: &str) -> bool {
        self.destinations.lock().buckets.remove(name).is_some()
    }

    /// Creates delivery stream `name` in (`account`, `region`), `ACTIVE` (AWS takes a
    /// while; set another status with [`SimState::set_delivery_stream_status`]). Returns
    /// its ARN, or `None` if it exists already.
    pub fn create_delivery_stream(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Option<String> {
        let mut data = self.destinations.lock();
        let streams = data.streams.entry(ns(account, region)).or_default();
        if streams.contains_key(name) {
            return None;
        }
        let stream = Stream {
            status: DeliveryStreamStatus::Active,
            created: SystemTime::now(),
        };
        streams.insert(name.to_owned(), stream);
        Some(stream_arn(account, region, name))
    }

    /// Deletes a delivery stream at once; false if there was none.
    pub fn delete_delivery_stream(&self, account: &str, region: &str, name: &str) -> bool {
        let mut data = self.destinations.lock();
        data.streams
            .get_mut(&ns(account, region))
            .is_some_and(|streams| streams.remove(name).is_some())
    }

    /// Sets a delivery stream's `DeliveryStreamStatus`; false if there is no such stream.
    pub fn set_delivery_stream_status(
        &self,
        account: &str,
        region: &str,
        name: &str,
        status: DeliveryStreamStatus,
    ) -> bool {
        let mut data = self.destinations.lock();
        match data
            .streams
            .get_mut(&ns(account, region))
            .and_then(|streams| streams.get_mut(name))
        {
            Some(stream) => {
                stream.status = status;
                true
            }
            None => false,
        }
    }

    /// Makes the checks of the destination with this ARN refused (`refuse: true`) or
    /// answered again: `DescribeLogGroups` naming the group answers
    /// `AccessDeniedException`, `HeadBucket` a bare 403, `DescribeDeliveryStream`
    /// `AccessDeniedException`, as when IAM denies the caller. A log group's ARN may be
    /// given with or without `:*`. The destination need not exist.
    pub fn refuse_destination(&self, arn: &str, refuse: bool) {
        let arn = arn.strip_suffix(":*").unwrap_or(arn).to_owned();
        let mut data = self.destinations.lock();
        if refuse {
            data.refused.insert(arn);
        } else {
            data.refused.remove(&arn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn destinations_are_created_once_and_deleted() {
        let s = SimState::new("123456789012".into(), 0, Duration::from_secs(3600));
        assert!(s.create_log_group("123456789012", "us-east-1", "/g", Some("k")));
        assert!(!s.create_log_group("123456789012", "us-east-1", "/g", None));
        assert!(s.delete_log_group("123456789012", "us-east-1", "/g"));
        assert!(!s.delete_log_group("123456789012", "us-east-1", "/g"));
        assert_eq!(s.create_bucket("1", "us-east-1", "b"), Ok(()));
        assert_eq!(
            s.create_bucket("1", "eu-west-1", "b"),
            Err(BucketTaken::OwnedByYou)
        );
        assert_eq!(
            s.create_bucket("2", "us-east-1", "b"),
            Err(BucketTaken::OwnedByOther)
        );
        assert!(s.delete_bucket("b") && !s.delete_bucket("b"));
        let arn = s
            .create_delivery_stream("1", "us-east-1", "st")
            .expect("new");
        assert_eq!(arn, "arn:aws:firehose:us-east-1:1:deliverystream/st");
        assert!(s.set_delivery_stream_status(
            "1",
            "us-east-1",
            "st",
            DeliveryStreamStatus::Creating
        ));
        assert!(!s.set_delivery_stream_status(
            "1",
            "eu-west-1",
            "st",
            DeliveryStreamStatus::Active
        ));
        assert!(s.delete_delivery_stream("1", "us-east-1", "st"));
    }
}
