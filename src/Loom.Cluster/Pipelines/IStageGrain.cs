using Loom.Cluster.Grains;

namespace Loom.Cluster.Pipelines;

/// <summary>
/// One stage of a model pipeline on one silo (key: <see cref="StageSpec.GrainKey"/>, placed on that silo with
/// Orleans' placement hint). The client drives each item through the stages: it pushes the tensors a stage
/// reads, in chunks below Orleans' message limit, and the last chunk's reply carries the first chunk of what the
/// stage writes (the rest is pulled). Reentrant, and each item runs on the thread pool, so a silo works on
/// every item the client has in flight for it at once.
/// </summary>
public interface IStageGrain : IGrainWithStringKey
{
    /// <summary>Loads the whole model (optimized, one thread) and times one made-up item on it: the silo's speed for this model.</summary>
    Task<ProbeReply> Probe(ModelRef model, Dictionary<string, long> dims);

    /// <summary>Answers at once; the client times it with small and large payloads for the link's cost.</summary>
    Task<int> Echo(byte[] payload);

    /// <summary>Cuts the model at the spec's starts and compiles this stage (once per activation).</summary>
    Task<StageReply> Prepare(StageSpec spec);

    /// <summary>Chunk <paramref name="part"/> of <paramref name="parts"/> of item <paramref name="seq"/>'s inputs; after the last, runs the item.</summary>
    Task<StageReply> Push(long seq, int part, int parts, byte[] chunk);

    /// <summary>Chunk <paramref name="part"/> (≥ 1) of item <paramref name="seq"/>'s outputs; the last one pulled frees them.</summary>
    Task<StageReply> Pull(long seq, int part);

    /// <summary>The pipeline is over: drop the stage's session.</summary>
    Task Release();
}

/// <summary>
/// A stage as the client planned it: the model, the input sizes, every stage's first node (line order of
/// <see cref="Loom.Streams.Models.CutProfile"/>) and which stage this is. The silo cuts its own copy of the
/// optimized model the same way and checks it got the same stage (<see cref="Nodes"/>, <see cref="Reads"/>,
/// <see cref="Writes"/>): the optimized graph depends only on the model file and the passes, not on the machine.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StageSpec([property: Id(0)] ModelRef Model, [property: Id(1)] Dictionary<string, long> Dims, [property: Id(2)] int[] Starts,
    [property: Id(3)] int Index, [property: Id(4)] string[] Reads, [property: Id(5)] string[] Writes, [property: Id(6)] int Nodes,
    [property: Id(7)] int MaxChunkBytes, [property: Id(8)] string Pipeline)
{
    /// <summary>One activation per (pipeline, stage, placement): a stage placed again is a new grain, never a stale one.</summary>
    public string GrainKey(string silo, int placement) => $"{Pipeline}/{Index}.{placement}@{silo}";
}

/// <summary>
/// A stage's answer. <see cref="Chunk"/>: part 0 (or the part pulled) of the encoded outputs, <see cref="Parts"/>
/// in all. <see cref="NotPrepared"/>: this activation has no stage (Orleans activated the grain afresh, e.g. on
/// another silo after its own died): the client places the stage again. Errors travel as text, with the silo.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StageReply([property: Id(0)] byte[]? Chunk, [property: Id(1)] int Parts, [property: Id(2)] string? Error, [property: Id(3)] string Silo,
    [property: Id(4)] bool NeedsModel = false, [property: Id(5)] bool NotPrepared = false, [property: Id(6)] double Seconds = 0);

/// <summary>A silo's probe: seconds for one item through the whole model on one thread, its cores and name.</summary>
[GenerateSerializer, Immutable]
public sealed record ProbeReply([property: Id(0)] double Seconds, [property: Id(1)] string Silo, [property: Id(2)] string Name, [property: Id(3)] int Cores,
    [property: Id(4)] string? Error = null, [property: Id(5)] bool NeedsModel = false);
