-- Function URLs (HTTP endpoints of a function or an alias) and Lambda layers.

-- CreateFunctionUrlConfig: one URL per function and qualifier ('' = the unqualified function, or
-- an alias name). url_id is the <url-id> of the endpoint; it never changes.
CREATE TABLE function_urls (
  function_name      text NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
  qualifier          text NOT NULL DEFAULT '',
  url_id             text NOT NULL UNIQUE,
  auth_type          text NOT NULL CHECK (auth_type IN ('NONE', 'AWS_IAM')),
  invoke_mode        text NOT NULL DEFAULT 'BUFFERED',
  cors               jsonb,  -- the Cors object as given; NULL = none
  creation_time      text NOT NULL,
  last_modified_time text NOT NULL,
  PRIMARY KEY (function_name, qualifier)
);

-- PublishLayerVersion: version numbers per layer name grow and are never reused, even after
-- DeleteLayerVersion (as in Lambda), so the name keeps its counter here.
CREATE TABLE layers (
  name         text PRIMARY KEY,
  next_version bigint NOT NULL DEFAULT 1
);

-- One row per layer version; the package (≤ 50 MB zipped) is kept so that every node can unpack
-- it into its own code store.
CREATE TABLE layer_versions (
  layer_name               text NOT NULL REFERENCES layers (name) ON DELETE CASCADE,
  version                  bigint NOT NULL,
  description              text NOT NULL DEFAULT '',
  license_info             text NOT NULL DEFAULT '',
  compatible_runtimes      jsonb NOT NULL DEFAULT '[]',
  compatible_architectures jsonb NOT NULL DEFAULT '[]',
  code_sha256              text NOT NULL,
  code_size                bigint NOT NULL,
  unzipped_size            bigint NOT NULL,
  created_date             text NOT NULL,
  zip                      bytea NOT NULL,
  PRIMARY KEY (layer_name, version)
);
