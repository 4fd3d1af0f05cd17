using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Concurrency;
using Loom.Cluster.Codec;
using Loom.Cluster.Grains;
using Loom.Cluster.Hosting;
using Loom.IR;
using Loom.Scheduling;
using Loom.Streams.Models;

namespace Loom.Cluster.Pipelines;

/// <summary>
/// A pipeline stage on one silo: a <see cref="LoomSession"/> of its slice of the model, and the chunks of the
/// items in flight through it. Orleans runs a grain's turns one at a time (so the chunk tables need no lock);
/// the model runs on the thread pool, so items overlap.
/// </summary>
[Reentrant]
public sealed class StageGrain(ILocalSiloDetails silo, IServiceProvider services) : Grain, IStageGrain
{
    private readonly SiloLimits _limits = SiloLimits.Of(services);
    private Task<(LoomSession Session, StageSpec Spec)>? _stage;
    private readonly Dictionary<long, byte[][]> _in = [], _out = [];
    private string Silo => ClusterNames.Describe(silo);

    /// <summary>Optimized models this silo has loaded, by hash: the probe and every stage of every pipeline share one.</summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task<Model>>> Optimized = new();

    private Task<Model> LoadOptimized(ModelRef model)
    {
        string path = ModelCache.Find(model) ?? throw new ModelNotHere();
        _limits.CheckModel(path);
        var lazy = Optimized.GetOrAdd(model.Sha256, _ => new Lazy<Task<Model>>(() => Task.Run(() => PipelinePartition.LoadOptimized(path))));
        if (lazy.Value.IsFaulted) Optimized.TryRemove(new KeyValuePair<string, Lazy<Task<Model>>>(model.Sha256, lazy)); // the next call tries again
        return lazy.Value;
    }

    private sealed class ModelNotHere : Exception;

    public async Task<ProbeReply> Probe(ModelRef model, Dictionary<string, long> dims)
    {
        try
        {
            var optimized = await LoadOptimized(model);
            double seconds = await Task.Run(() =>
            {
                using var session = LoomSession.Create(optimized, PipelinePartition.StageOptions);
                var item = StreamInputs.Item(session.Inputs, dims, 0);
                session.Run(item).Dispose(); // warm-up: code, buffers
                double best = double.MaxValue;
                for (int i = 0; i < 2; i++)
                {
                    var clock = Stopwatch.StartNew();
                    session.Run(item).Dispose();
                    best = Math.Min(best, clock.Elapsed.TotalSeconds);
                }
                return best;
            });
            return new ProbeReply(seconds, silo.SiloAddress.ToParsableString(), silo.Name, Environment.ProcessorCount);
        }
        catch (ModelNotHere) { return new ProbeReply(0, silo.SiloAddress.ToParsableString(), silo.Name, Environment.ProcessorCount, NeedsModel: true); }
        catch (Exception e) { return new ProbeReply(0, silo.SiloAddress.ToParsableString(), silo.Name, Environment.ProcessorCount, Error: e.Message); }
    }

    public Task<int> Echo(byte[] payload) => Task.FromResult(payload.Length);

    public async Task<StageReply> Prepare(StageSpec spec)
    {
        try
        {
            var optimized = await LoadOptimized(spec.Model);
            _stage ??= Task.Run(() => Compile(optimized, spec));
            await _stage;
            return new StageReply(null, 0, null, Silo);
        }
        catch (ModelNotHere) { return new StageReply(null, 0, null, Silo, NeedsModel: true); }
        catch (Exception e)
        {
            if (_stage is { IsFaulted: true }) _stage = null;
            return new StageReply(null, 0, $"stage {spec.Index}: {e.Message}", Silo);
        }
    }

    private static (LoomSession, StageSpec) Compile(Model optimized, StageSpec spec)
    {
        // Slicing does not depend on timings: any profile gives the same stage for the same starts.
        var partition = PipelinePartition.Create(optimized, spec.Dims, MachineProfile.Fixed(1));
        var (_, _, reads, writes) = partition.Stage(spec.Starts, spec.Index);
        if (partition.Nodes != spec.Nodes || !reads.SequenceEqual(spec.Reads) || !writes.SequenceEqual(spec.Writes))
            throw new SiloModelException($"this silo's cut differs from the client's ({partition.Nodes} nodes against {spec.Nodes}; reads {string.Join(",", reads)} against {string.Join(",", spec.Reads)})");
        return (LoomSession.Create(partition.StageModelOf(spec.Starts, spec.Index), PipelinePartition.StageOptions), spec);
    }

    public async Task<StageReply> Push(long seq, int part, int parts, byte[] chunk)
    {
        if (_stage is not { IsCompletedSuccessfully: true }) return new StageReply(null, 0, null, Silo, NotPrepared: true);
        var (session, spec) = _stage.Result;
        if (part == 0) _in[seq] = new byte[parts][]; // a replayed item starts over
        if (!_in.TryGetValue(seq, out var chunks) || chunks.Length != parts || part >= parts)
            return new StageReply(null, 0, $"item {seq}: chunk {part} of {parts} arrived out of order", Silo);
        chunks[part] = chunk;
        if (part < parts - 1) return new StageReply(null, 0, null, Silo);
        _in.Remove(seq);
        try
        {
            var (encoded, seconds) = await Task.Run(() => RunItem(session, chunks));
            var outParts = Split(encoded, spec.MaxChunkBytes);
            if (outParts.Length > 1) _out[seq] = outParts;
            return new StageReply(outParts[0], outParts.Length, null, Silo, Seconds: seconds);
        }
        catch (Exception e) { return new StageReply(null, 0, $"stage {spec.Index}, item {seq}: {e.Message}", Silo); }
    }

    private static (byte[], double) RunItem(LoomSession session, byte[][] chunks)
    {
        var bytes = chunks.Length == 1 ? chunks[0] : chunks.SelectMany(c => c).ToArray();
        var inputs = TensorCodec.Decode(bytes).ToDictionary(t => t.Name, t => (LoomValue)t.Value);
        var clock = Stopwatch.StartNew();
        using var result = session.Run(inputs);
        double seconds = clock.Elapsed.TotalSeconds;
        return (TensorCodec.Encode(result.Select(o => (o.Name, o.Value as Tensor ?? throw new UnsupportedException($"output '{o.Name}' is not a tensor"))).ToArray()), seconds);
    }

    public Task<StageReply> Pull(long seq, int part)
    {
        if (_stage is not { IsCompletedSuccessfully: true }) return Task.FromResult(new StageReply(null, 0, null, Silo, NotPrepared: true));
        if (!_out.TryGetValue(seq, out var parts) || part < 1 || part >= parts.Length)
            return Task.FromResult(new StageReply(null, 0, $"item {seq}: no output chunk {part}", Silo));
        if (part == parts.Length - 1) _out.Remove(seq);
        return Task.FromResult(new StageReply(parts[part], parts.Length, null, Silo));
    }

    /// <summary>Splits an encoded message into chunks of at most <paramref name="max"/> bytes.</summary>
    internal static byte[][] Split(byte[] bytes, int max)
    {
        if (bytes.Length <= max) return [bytes];
        var parts = new byte[(bytes.Length + max - 1) / max][];
        for (int i = 0; i < parts.Length; i++) parts[i] = bytes.AsSpan(i * max, Math.Min(max, bytes.Length - i * max)).ToArray();
        return parts;
    }

    public Task Release()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken token)
    {
        if (_stage is { IsCompletedSuccessfully: true }) _stage.Result.Session.Dispose();
        return Task.CompletedTask;
    }
}
