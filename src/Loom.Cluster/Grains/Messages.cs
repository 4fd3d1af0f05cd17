namespace Loom.Cluster.Grains;

/// <summary>
/// Which model a silo should load: a path every silo can read (shared storage, as for the input) and the
/// SHA-256 of the client's copy, so a silo that sees a different file refuses instead of scoring with it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ModelRef([property: Id(0)] string Path, [property: Id(1)] string Sha256, [property: Id(2)] int NumIteration, [property: Id(3)] int Strategy)
{
    /// <summary>The model grain's key on a silo: one activation (one loaded session) per model and silo.</summary>
    public string GrainKey(string silo) => Sha256[..16] + "@" + silo;
}

/// <summary>What a silo found in the model: the one float input [N, F] and its feature names, the outputs.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelDescription([property: Id(0)] string Input, [property: Id(1)] string[] FeatureNames, [property: Id(2)] string[] Outputs);

/// <summary>
/// A silo's answer. <see cref="NeedsModel"/>: the silo has no copy of the model with the client's hash
/// (no shared storage, or a different file there); the client then uploads it (<see cref="IModelGrain.Upload"/>).
/// Errors travel as text rather than exceptions so they reach the client intact, with the
/// silo that raised them (Orleans would otherwise rewrite unknown exception types).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ScoreReply([property: Id(0)] byte[]? Outputs, [property: Id(1)] string? Error, [property: Id(2)] string Silo, [property: Id(3)] ModelDescription? Description = null,
    [property: Id(4)] bool NeedsModel = false);

/// <summary>A silo as the client places work on it.</summary>
[GenerateSerializer, Immutable]
public sealed record SiloInfo([property: Id(0)] string Address, [property: Id(1)] string Name, [property: Id(2)] int Cores);
