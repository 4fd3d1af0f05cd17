namespace Loom.Cluster.Scoring;

/// <summary>
/// A distributed `loom score`: the model, input and output (or <see cref="Resume"/>, a job id whose
/// persisted plan supplies them), and how work is cut: <see cref="MaxChunkBytes"/> bounds one Orleans
/// message of features (well below Orleans' 100 MB message limit), <see cref="CsvShardBytes"/> one CSV shard.
/// </summary>
public sealed record ClusterScoreRequest(string? Model, string? Data, string? Out, IReadOnlyDictionary<string, string> Map,
    int Strategy = 0, int NumIteration = 0, string? Resume = null, int MaxChunkBytes = 4 << 20, long CsvShardBytes = 32 << 20, int? InFlightPerSilo = null);

/// <summary>One silo's share of a job.</summary>
public sealed record SiloStats(string Silo, long Rows, int Shards, double BusySeconds);

/// <summary>Progress after each finished shard.</summary>
public sealed record ScoreProgress(string JobId, int ShardsDone, int Shards, long Rows, double Seconds, IReadOnlyList<SiloStats> Silos);

/// <summary>
/// A finished job: rows, wall time, per-silo shares, bytes of tensor messages each way, shards re-run after a
/// failure, and the files written.
/// </summary>
public sealed record ClusterScoreResult(string JobId, long Rows, double Seconds, IReadOnlyList<SiloStats> Silos, long BytesSent, long BytesReceived,
    int ShardsRerun, string Output, string Manifest);
