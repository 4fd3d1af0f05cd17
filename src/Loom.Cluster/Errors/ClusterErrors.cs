namespace Loom.Cluster;

/// <summary>A cluster setting that cannot work: a malformed connection string, a bad port, a missing schema. Names the setting.</summary>
public sealed class ClusterConfigException(string message, Exception? inner = null) : LoomException(message, inner);

/// <summary>The cluster's database or silos cannot be reached. Names the host, port and database.</summary>
public sealed class ClusterUnavailableException(string message, Exception? inner = null) : LoomException(message, inner);

/// <summary>A silo could not load or run the model. Names the silo and the model.</summary>
public sealed class SiloModelException(string message) : LoomException(message);

/// <summary>An input shard that cannot be read or scored (corrupt file, malformed rows). Names the shard and its byte or row-group range.</summary>
public sealed class ShardException(string message, Exception? inner = null) : LoomException(message, inner);

/// <summary>Bytes that are not a tensor message of this codec (truncated, wrong magic, unknown dtype).</summary>
public sealed class TensorCodecException(string message) : LoomException(message);

/// <summary>A job that cannot be resumed or listed as asked (unknown id, different input or model).</summary>
public sealed class ClusterJobException(string message) : LoomException(message);
