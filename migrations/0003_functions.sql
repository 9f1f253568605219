-- Lambda functions in the database (switchyard serve): every function, its versions, aliases,
-- concurrency settings and event invoke configurations, shared by every node on the database and
-- kept across restarts. The code itself: each deployment package (zip) is kept once per function
-- and SHA-256 in function_code, so that a node that lacks a version's code unpacks it from here
-- into its own code store (<data-dir>/functions/<name>/<code-sha256-hex>/). Functions whose code
-- is a directory used in place (serve --functions, S3Bucket "__local__") keep only the path: that
-- directory must exist on every node (a shared or identical path).

CREATE TABLE functions (
  name                 text PRIMARY KEY,
  reserved_concurrency integer,                 -- NULL = unreserved
  next_version         integer NOT NULL DEFAULT 1,
  serial               bigint NOT NULL DEFAULT 1,  -- bumped by every change (optimistic lock)
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- $LATEST and the published versions. `config` holds the configuration and metadata as JSON
-- (Runtime, Handler, MemorySize, Timeout, Environment, Description, CodeSha256, CodeSize,
-- RevisionId, LastModified, ...); code_dir is where the code is on the node that wrote it.
CREATE TABLE function_versions (
  function_name text NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
  version       text NOT NULL,               -- '$LATEST' | '1' | '2' ...
  code_sha256   text NOT NULL DEFAULT '',    -- base64, as Lambda shows it
  config        jsonb NOT NULL,
  PRIMARY KEY (function_name, version)
);

CREATE TABLE function_aliases (
  function_name    text NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
  alias            text NOT NULL,
  function_version text NOT NULL,
  -- RoutingConfig.AdditionalVersionWeights: {"2": 0.25}
  routing          jsonb NOT NULL DEFAULT '{}',
  description      text NOT NULL DEFAULT '',
  revision_id      text NOT NULL,
  PRIMARY KEY (function_name, alias)
);

-- PutFunctionEventInvokeConfig, per qualifier ('$LATEST' = the unqualified function).
CREATE TABLE function_event_invoke_configs (
  function_name             text NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
  qualifier                 text NOT NULL,
  maximum_retry_attempts    integer CHECK (maximum_retry_attempts BETWEEN 0 AND 2),
  maximum_event_age_seconds integer CHECK (maximum_event_age_seconds BETWEEN 60 AND 21600),
  on_success                text NOT NULL DEFAULT '',
  on_failure                text NOT NULL DEFAULT '',
  last_modified             double precision NOT NULL,  -- epoch seconds
  PRIMARY KEY (function_name, qualifier)
);

-- PutProvisionedConcurrencyConfig, per qualifier (a version number or an alias).
CREATE TABLE function_provisioned_concurrency (
  function_name text NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
  qualifier     text NOT NULL,
  requested     integer NOT NULL CHECK (requested > 0),
  last_modified text NOT NULL,
  PRIMARY KEY (function_name, qualifier)
);

-- Deployment packages (Lambda's limit: 50 MB zipped), once per function and code hash; removed
-- when no version of the function uses them any more.
CREATE TABLE function_code (
  function_name text NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
  code_sha256   text NOT NULL,
  zip           bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (function_name, code_sha256)
);

-- The async queue's leased rows, for lease expiry scans.
CREATE INDEX async_invocations_leased ON async_invocations (lease_until)
  WHERE lease_owner IS NOT NULL;
