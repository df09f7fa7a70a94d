#!/usr/bin/env python3
"""boto3 against the cognito-sim binary: the simulator must speak the wire protocols the
way botocore expects them, not just the way the Rust SDK reads them.

Starts the binary on port 0 (path: $CARGO_BIN_EXE_cognito-sim, $CARGO_BIN_EXE, $SIM_BIN,
or target/debug/cognito-sim), runs the checks, prints "N passed, M failed", and exits
non-zero if any check failed. Needs boto3 (pip install boto3).
"""
import json
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "eu-west-1"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/cognito/boto3"
BUCKET = "arn:aws:s3:::cognito-boto3-logs"

# Hermetic: no profile, config file or credentials of the machine's user.
for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
    os.environ.pop(var, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402  (after the environment is made hermetic)
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def sim_binary():
    for var in ("CARGO_BIN_EXE_cognito-sim", "CARGO_BIN_EXE", "SIM_BIN"):
        if os.environ.get(var):
            return os.environ[var]
    return os.path.join(ROOT, "target", "debug", "cognito-sim")


def start_sim():
    cmd = [sim_binary(), "--listen", "127.0.0.1:0", "--pools", "7", "--region", REGION,
           "--log-level", "warn"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.match(r"listening on (http://\S+)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise SystemExit(f"cognito-sim did not print its address: {' '.join(cmd)}")


def control(endpoint, method, path, doc=None):
    data = None if doc is None else json.dumps(doc).encode()
    req = urllib.request.Request(f"{endpoint}{path}", data=data, method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        body = r.read()
        return json.loads(body) if body else None


class Checks:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        session = boto3.Session(aws_access_key_id="AKIDBOTO3", aws_secret_access_key="secret",
                                region_name=REGION)
        self.config = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=5)
        self.idp = session.client("cognito-idp", endpoint_url=endpoint, config=self.config)
        self.sts = session.client("sts", endpoint_url=endpoint, config=self.config)
        self.logs = session.client("logs", endpoint_url=endpoint, config=self.config)
        self.firehose = session.client("firehose", endpoint_url=endpoint, config=self.config)
        path_style = self.config.merge(Config(s3={"addressing_style": "path"}))
        self.s3 = session.client("s3", endpoint_url=endpoint, config=path_style)

    def test_feature_plans_and_update_user_pool(self):
        pool = self.idp.create_user_pool(
            PoolName="boto3-plus", UserPoolTier="PLUS",
            UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})["UserPool"]
        assert pool["UserPoolTier"] == "PLUS", pool
        assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}, pool
        plain = self.idp.create_user_pool(PoolName="boto3-plain")["UserPool"]
        assert plain["UserPoolTier"] == "ESSENTIALS" and "UserPoolAddOns" not in plain, plain
        self.expect_error("FeatureUnavailableInTierException", self.idp.update_user_pool,
                          UserPoolId=plain["Id"], UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
        auth_events = [{"LogLevel": "INFO", "EventSource": "userAuthEvents",
                        "S3Configuration": {"BucketArn": BUCKET}}]
        self.expect_error("FeatureUnavailableInTierException",
                          self.idp.set_log_delivery_configuration,
                          UserPoolId=plain["Id"], LogConfigurations=auth_events)
        seeded = self.idp.list_user_pools(MaxResults=1)["UserPools"][0]
        self.idp.update_user_pool(UserPoolId=seeded["Id"], UserPoolTier="PLUS",
                                  UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
        after = self.idp.describe_user_pool(UserPoolId=seeded["Id"])["UserPool"]
        assert after["UserPoolTier"] == "PLUS", after
        assert after["UserPoolAddOns"] == {"AdvancedSecurityMode": "AUDIT"}, after
        assert after["LastModifiedDate"] > seeded["LastModifiedDate"], (after, seeded)
        for p in (pool, plain):
            self.idp.delete_user_pool(UserPoolId=p["Id"])

    def test_log_groups(self):
        key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/boto3"
        for name in ("/boto3/a", "/boto3/b", "/boto3/c"):
            self.logs.create_log_group(logGroupName=name)
        self.logs.create_log_group(logGroupName="/boto3/kms", kmsKeyId=key)
        self.expect_error("ResourceAlreadyExistsException", self.logs.create_log_group,
                          logGroupName="/boto3/a")
        pages = list(self.logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix="/boto3/", PaginationConfig={"PageSize": 1}))
        names = [g["logGroupName"] for page in pages for g in page["logGroups"]]
        assert names == ["/boto3/a", "/boto3/b", "/boto3/c", "/boto3/kms"], names
        assert len(pages) == 4, pages
        arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/boto3/kms"
        found = self.logs.describe_log_groups(logGroupIdentifiers=[arn])["logGroups"]
        assert len(found) == 1 and found[0]["kmsKeyId"] == key, found
        assert found[0]["arn"] == arn + ":*" and found[0]["logGroupArn"] == arn, found
        for name in ("/boto3/a", "/boto3/b", "/boto3/c", "/boto3/kms"):
            self.logs.delete_log_group(logGroupName=name)
        self.expect_error("ResourceNotFoundException", self.logs.delete_log_group,
                          logGroupName="/boto3/a")

    def test_buckets_path_style(self):
        self.s3.create_bucket(Bucket="boto3-logs",
                              CreateBucketConfiguration={"LocationConstraint": REGION})
        head = self.s3.head_bucket(Bucket="boto3-logs")
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == REGION, head
        err = self.expect_error("404", self.s3.head_bucket, Bucket="boto3-missing")
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404, err.response
        self.expect_error("BucketAlreadyOwnedByYou", self.s3.create_bucket, Bucket="boto3-logs",
                          CreateBucketConfiguration={"LocationConstraint": REGION})
        self.s3.delete_bucket(Bucket="boto3-logs")
        self.expect_error("NoSuchBucket", self.s3.delete_bucket, Bucket="boto3-logs")

    def test_delivery_streams(self):
        arn = self.firehose.create_delivery_stream(
            DeliveryStreamName="boto3-stream", DeliveryStreamType="DirectPut")["DeliveryStreamARN"]
        assert arn == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/boto3-stream", arn
        d = self.firehose.describe_delivery_stream(DeliveryStreamName="boto3-stream")
        d = d["DeliveryStreamDescription"]
        assert d["DeliveryStreamStatus"] == "ACTIVE" and d["Destinations"] == [], d
        assert hasattr(d["CreateTimestamp"], "year"), d
        control(self.endpoint, "PUT", f"/_sim/destinations/{arn}", {"status": "CREATING"})
        d = self.firehose.describe_delivery_stream(DeliveryStreamName="boto3-stream")
        assert d["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "CREATING", d
        self.firehose.delete_delivery_stream(DeliveryStreamName="boto3-stream")
        self.expect_error("ResourceNotFoundException", self.firehose.describe_delivery_stream,
                          DeliveryStreamName="boto3-stream")

    def test_list_pools_paginates(self):
        pages = self.idp.get_paginator("list_user_pools").paginate(MaxResults=3)
        pools = [p for page in pages for p in page["UserPools"]]
        assert len(pools) == 7, pools
        assert pools[0]["Name"] == "prod-pool-0001", pools[0]
        assert all(p["Id"].startswith(f"{REGION}_") for p in pools)
        assert hasattr(pools[0]["CreationDate"], "year"), "dates parse as timestamps"

    def test_create_set_get_round_trip(self):
        # userAuthEvents logs need the Plus feature plan.
        pool = self.idp.create_user_pool(PoolName="boto3-pool", UserPoolTier="PLUS")["UserPool"]
        assert pool["Arn"] == f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool['Id']}", pool
        got = self.idp.get_log_delivery_configuration(UserPoolId=pool["Id"])
        assert got["LogDeliveryConfiguration"]["LogConfigurations"] == [], got
        configs = [
            {"LogLevel": "ERROR", "EventSource": "userNotification",
             "CloudWatchLogsConfiguration": {"LogGroupArn": LOG_GROUP}},
            {"LogLevel": "INFO", "EventSource": "userAuthEvents",
             "S3Configuration": {"BucketArn": BUCKET}},
        ]
        answer = self.idp.set_log_delivery_configuration(UserPoolId=pool["Id"],
                                                         LogConfigurations=configs)
        assert answer["LogDeliveryConfiguration"]["LogConfigurations"] == configs, answer
        got = self.idp.get_log_delivery_configuration(UserPoolId=pool["Id"])
        assert got["LogDeliveryConfiguration"] == {"UserPoolId": pool["Id"],
                                                   "LogConfigurations": configs}, got
        self.idp.delete_user_pool(UserPoolId=pool["Id"])
        self.expect_error("ResourceNotFoundException", self.idp.describe_user_pool,
                          UserPoolId=pool["Id"])

    def test_validation_errors(self):
        pool_id = self.idp.list_user_pools(MaxResults=1)["UserPools"][0]["Id"]
        bad = [{"LogLevel": "INFO", "EventSource": "userNotification",
                "CloudWatchLogsConfiguration": {"LogGroupArn": LOG_GROUP}}]
        err = self.expect_error("InvalidParameterException", self.idp.set_log_delivery_configuration,
                                UserPoolId=pool_id, LogConfigurations=bad)
        assert "requires LogLevel ERROR" in err.response["Error"]["Message"], err.response

    def test_sts_identity_and_assume_role(self):
        me = self.sts.get_caller_identity()
        assert me["Account"] == ACCOUNT, me
        creds = self.sts.assume_role(RoleArn=f"arn:aws:iam::{OTHER}:role/reader",
                                     RoleSessionName="boto3")["Credentials"]
        assert creds["AccessKeyId"].startswith("ASIA") and creds["Expiration"].year >= 2024
        other = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                              aws_secret_access_key=creds["SecretAccessKey"],
                              aws_session_token=creds["SessionToken"], region_name=REGION)
        who = other.client("sts", endpoint_url=self.endpoint, config=self.config).get_caller_identity()
        assert who["Account"] == OTHER and "assumed-role/reader/boto3" in who["Arn"], who
        idp = other.client("cognito-idp", endpoint_url=self.endpoint, config=self.config)
        assert idp.list_user_pools(MaxResults=10)["UserPools"] == [], "another account is empty"

    def test_injected_faults_and_stats(self):
        control(self.endpoint, "DELETE", "/_sim/stats")
        control(self.endpoint, "PUT", "/_sim/faults", {"rules": [
            {"kind": "error", "operation": "ListUserPools", "code": "TooManyRequestsException",
             "count": 1},
            {"kind": "error", "operation": "GetCallerIdentity", "code": "ExpiredTokenException",
             "count": 1},
        ]})
        self.expect_error("TooManyRequestsException", self.idp.list_user_pools, MaxResults=1)
        self.idp.list_user_pools(MaxResults=1)
        self.expect_error("ExpiredToken", self.sts.get_caller_identity)
        control(self.endpoint, "DELETE", "/_sim/faults")
        stats = control(self.endpoint, "GET", "/_sim/stats")
        listed = stats["operations"]["ListUserPools"]
        assert listed["requests"] == 2 and listed["ok"] == 1, listed
        assert listed["errors"] == {"TooManyRequestsException": 1}, listed
        assert stats["operations"]["GetCallerIdentity"]["errors"] == {"ExpiredToken": 1}, stats

    @staticmethod
    def expect_error(code, call, **kwargs):
        try:
            call(**kwargs)
        except ClientError as err:
            got = err.response["Error"]["Code"]
            assert got == code, f"wanted {code}, got {got}: {err.response}"
            return err
        raise AssertionError(f"wanted {code}, the call succeeded")


def main():
    proc, endpoint = start_sim()
    passed = failed = 0
    try:
        checks = Checks(endpoint)
        for name in sorted(n for n in dir(checks) if n.startswith("test_")):
            try:
                getattr(checks, name)()
                passed += 1
                print(f"PASS {name}")
            except Exception:  # noqa: BLE001  (report every check, then fail)
                failed += 1
                print(f"FAIL {name}")
                traceback.print_exc()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
