using Orleans.Concurrency;
using Loom.Cli.Commands;
using Loom.Cluster.Codec;
using Loom.Cluster.Hosting;
using Loom.Lowering.Trees;

namespace Loom.Cluster.Grains;

/// <summary>
/// Holds one loaded session per (model, silo). Orleans runs a grain's turns one at a time even when it is
/// reentrant, so the scoring itself goes to the thread pool: that is what lets several chunks run on a
/// silo's cores at once.
/// </summary>
[Reentrant]
public sealed class ModelGrain(ILocalSiloDetails silo, IServiceProvider services) : Grain, IModelGrain
{
    private readonly SiloLimits _limits = SiloLimits.Of(services);
    private Task<(LoomSession Session, ModelDescription Description)>? _loading;
    private string Silo => ClusterNames.Describe(silo);

    public async Task<ScoreReply> Describe(ModelRef model)
    {
        try { return new ScoreReply(null, null, Silo, (await Load(model)).Description); }
        catch (Exception e) { return Failed(model, e); }
    }

    public async Task<ScoreReply> Score(ModelRef model, byte[] features)
    {
        try
        {
            var (session, description) = await Load(model);
            var outputs = await Task.Run(() =>
            {
                var inputs = TensorCodec.Decode(features);
                if (inputs.Length != 1 || inputs[0].Value.Rank != 2) throw new InputException($"a chunk holds one [rows, features] tensor, not {inputs.Length}");
                using var result = session.Run((description.Input, inputs[0].Value));
                return TensorCodec.Encode(result.Select(o => (o.Name, o.Value as Tensor ?? throw new UnsupportedException($"output '{o.Name}' is not a tensor"))).ToArray());
            });
            return new ScoreReply(outputs, null, Silo);
        }
        catch (Exception e) { return Failed(model, e); }
    }

    public Task<SiloInfo> Info() => Task.FromResult(new SiloInfo(silo.SiloAddress.ToParsableString(), silo.Name, Environment.ProcessorCount));

    private ScoreReply Failed(ModelRef model, Exception e)
    {
        // A failed load is not cached: the next call tries again (the file may have been fixed or uploaded).
        if (_loading is { IsFaulted: true }) _loading = null;
        return e is ModelNotHere ? new ScoreReply(null, null, Silo, NeedsModel: true) : new ScoreReply(null, e.Message, Silo);
    }

    public async Task<ScoreReply> Upload(ModelRef model, long offset, byte[] chunk, bool last)
    {
        try
        {
            string uploader = this.GetPrimaryKeyString();
            await Task.Run(() => ModelCache.Receive(model, offset, chunk, last, uploader));
            return new ScoreReply(null, null, Silo);
        }
        catch (Exception e) { return new ScoreReply(null, $"model upload: {e.Message}", Silo); }
    }

    /// <summary>No copy of the model with the client's hash on this silo: the client will upload it.</summary>
    private sealed class ModelNotHere : Exception;

    private Task<(LoomSession Session, ModelDescription Description)> Load(ModelRef model) => _loading ??= Task.Run(() =>
    {
        string path = ModelCache.Find(model) ?? throw new ModelNotHere();
        _limits.CheckModel(path);
        var m = ModelFiles.Load(path, model.NumIteration);
        var session = LoomSession.Create(m, new LoomSessionOptions { TreeStrategy = (TreeStrategy)model.Strategy });
        if (session.Inputs.Length != 1 || session.Inputs[0] is not { ElementType: DataType.Float, Shape: { Rank: 2 } shape } input || shape[1].Value is null)
            throw new InputException($"{model.Path}: score needs a model with one float32 input of shape [N, F]; it has {string.Join(", ", session.Inputs)}");
        int features = (int)shape[1].Value!.Value;
        var names = m.Metadata.TryGetValue("feature_names", out var fn) && fn.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { } split && split.Length == features
            ? split : Enumerable.Range(0, features).Select(i => $"f{i}").ToArray();
        return (session, new ModelDescription(input.Name, names, session.Outputs.Select(o => o.Name).ToArray()));
    });

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken token)
    {
        if (_loading is { IsCompletedSuccessfully: true }) _loading.Result.Item1.Dispose();
        return Task.CompletedTask;
    }
}
