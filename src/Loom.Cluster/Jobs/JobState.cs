namespace Loom.Cluster.Jobs;

/// <summary>
/// One input shard: a run of Parquet row groups, or a byte range of a CSV file that starts and ends on
/// line boundaries (<see cref="Start"/>, <see cref="End"/> are group indices or byte offsets).
/// </summary>
[GenerateSerializer]
public sealed class ShardPlan
{
    [Id(0)] public int Index { get; set; }
    [Id(1)] public long Start { get; set; }
    [Id(2)] public long End { get; set; }
    /// <summary>Rows in the shard when known before reading (Parquet), else -1.</summary>
    [Id(3)] public long Rows { get; set; } = -1;

    public string Describe(bool parquet) => parquet
        ? (End - Start == 1 ? $"shard {Index} (row group {Start})" : $"shard {Index} (row groups {Start}-{End - 1})")
        : $"shard {Index} (bytes {Start}-{End})";
}

/// <summary>A finished shard: its part file, rows, and which silo scored it how fast.</summary>
[GenerateSerializer]
public sealed class ShardResult
{
    [Id(0)] public int Index { get; set; }
    [Id(1)] public long Rows { get; set; }
    [Id(2)] public string Silo { get; set; } = "";
    [Id(3)] public double Seconds { get; set; }
    [Id(4)] public string Part { get; set; } = "";
    [Id(5)] public long BytesSent { get; set; }
    [Id(6)] public long BytesReceived { get; set; }
    [Id(7)] public int Attempts { get; set; }
}

/// <summary>A scoring job's plan and progress, persisted (ADO.NET storage) so that a client that dies can resume it.</summary>
[GenerateSerializer]
public sealed class JobState
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public string Model { get; set; } = "";
    [Id(2)] public string ModelSha256 { get; set; } = "";
    [Id(3)] public string Input { get; set; } = "";
    [Id(4)] public long InputLength { get; set; }
    [Id(5)] public string Output { get; set; } = "";
    [Id(6)] public string PartsDir { get; set; } = "";
    [Id(7)] public Dictionary<string, string> Map { get; set; } = [];
    [Id(8)] public List<ShardPlan> Shards { get; set; } = [];
    [Id(9)] public Dictionary<int, ShardResult> Done { get; set; } = [];
    [Id(10)] public string Status { get; set; } = "";
    [Id(11)] public string? Error { get; set; }
    [Id(12)] public DateTime Created { get; set; }
    [Id(13)] public DateTime Updated { get; set; }
    [Id(14)] public int NumIteration { get; set; }
    [Id(15)] public int Strategy { get; set; }
    [Id(16)] public int RowsPerChunk { get; set; }

    public const string Running = "running", Finished = "finished", Failed = "failed";
}
