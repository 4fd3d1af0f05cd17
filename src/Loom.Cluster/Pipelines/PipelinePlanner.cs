using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using Loom.Cluster.Grains;
using Loom.Cluster.Hosting;
using Loom.Scheduling;
using Loom.Streams.Models;
using Orleans.Runtime.Placement;

namespace Loom.Cluster.Pipelines;

/// <summary>
/// Plans a pipeline across silos: loads the model here (optimized as <see cref="ModelStream"/> does), probes every
/// active silo — one item through the whole model on one thread (its speed for this model) and echoes of an empty
/// and a 1 MiB message (its link) — picks K silos, and cuts the model with the stream partitioner
/// (<see cref="CutProfile.Cut(IReadOnlyList{StageSite})"/>) so that the slowest stage, counting its silo's speed and
/// its tensors' trip over the link, is as fast as it can be.
/// </summary>
internal static class PipelinePlanner
{
    internal sealed record Planned(PipelinePlan Plan, ModelRef Model, StageSpec[] Specs, SiloAddress[] Sites, Dictionary<string, string> Names,
        ImmutableArray<ValueMetadata> Inputs, string[] Outputs);

    private const int EchoBytes = 1 << 20;

    public static async Task<Planned> PlanAsync(IClusterClient client, PipelineRequest req, Action<string>? log)
    {
        if (req.Stages < 1) throw new InputException($"--stages must be at least 1, not {req.Stages}");
        if (req.MaxChunkBytes < 1024) throw new InputException($"--chunk-bytes must be at least 1024, not {req.MaxChunkBytes}");
        if (!File.Exists(req.Model)) throw new InputException($"{req.Model}: no such file");
        string path = Path.GetFullPath(req.Model), sha;
        using (var f = File.OpenRead(path)) sha = Convert.ToHexString(SHA256.HashData(f));
        var model = new ModelRef(path, sha, 0, 0);

        ImmutableArray<ValueMetadata> inputs;
        string[] outputs;
        IR.Model optimized;
        using (var session = LoomSession.Load(path, ModelStream.OneCoreSessionOptions()))
            (inputs, outputs, optimized) = (session.Inputs, session.Outputs.Select(o => o.Name).ToArray(), session.Model);
        var dims = new Dictionary<string, long>(req.Dims ?? new Dictionary<string, long>());
        var missing = inputs.SelectMany(i => i.Symbols).Distinct().Where(s => !dims.ContainsKey(s)).ToList();
        if (missing.Count > 0) throw new InputException($"{req.Model}: give the size of {string.Join(", ", missing)} (--dim NAME=SIZE) to plan the pipeline");
        var partition = PipelinePartition.Create(optimized, dims, MachineProfile.ForThisMachine(Environment.ProcessorCount));
        double predicted = Math.Max(partition.Cuts.TotalSeconds, 1e-9);

        var hosts = (await Membership.ActiveHostsAsync(client, "pipeline")).Keys.OrderBy(a => a.ToParsableString(), StringComparer.Ordinal).ToList();
        if (hosts.Count == 0) throw new ClusterUnavailableException("the cluster has no active silo");
        var probes = await Task.WhenAll(hosts.Select(h => ProbeAsync(client, model, dims, h, predicted, log)));
        var answered = hosts.Zip(probes).Where(p => p.Second is not null).Select(p => (Address: p.First, Probe: p.Second!)).ToList();
        if (answered.Count == 0) throw new ClusterUnavailableException("no active silo answered the pipeline's probe");

        // K distinct silos when there are enough (the fastest ones, kept in address order); else stages share silos in turn.
        var chosen = answered.Count >= req.Stages
            ? answered.OrderBy(a => a.Probe.Seconds).Take(req.Stages).OrderBy(a => a.Address.ToParsableString(), StringComparer.Ordinal).ToList()
            : Enumerable.Range(0, req.Stages).Select(i => answered[i % answered.Count]).ToList();
        var sites = chosen.Select(c => new StageSite(c.Probe.Slowdown, c.Probe.LinkLatencySeconds, c.Probe.LinkSecondsPerByte)).ToArray();
        var starts = partition.Cuts.Cut(sites);
        string id = "p" + Guid.NewGuid().ToString("N")[..10];
        var specs = new StageSpec[starts.Length];
        var stages = new List<PipelineStage>();
        for (int s = 0; s < starts.Length; s++)
        {
            var (first, end, reads, writes) = partition.Stage(starts, s);
            specs[s] = new StageSpec(model, dims, starts, s, [.. reads], [.. writes], partition.Nodes, req.MaxChunkBytes, id);
            stages.Add(new PipelineStage(s, first, end, reads, writes, partition.Cuts.Bytes(reads), chosen[s].Probe.Name, partition.Cuts.SiteSeconds(sites[s], first, end)));
        }
        var plan = new PipelinePlan(path, partition.Nodes, predicted, answered.Select(a => a.Probe).ToList(), stages);
        var names = answered.ToDictionary(a => a.Address.ToParsableString(), a => a.Probe.Name);
        return new Planned(plan, model, specs, chosen.Select(c => c.Address).ToArray(), names, inputs, outputs);
    }

    /// <summary>One silo's probe (the model uploaded first when the silo has no copy); null when the silo does not answer (it may be dying).</summary>
    private static async Task<SiloProbe?> ProbeAsync(IClusterClient client, ModelRef model, Dictionary<string, long> dims, SiloAddress address, double predicted, Action<string>? log)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, address);
        try
        {
            var grain = client.GetGrain<IStageGrain>($"{model.Sha256[..16]}/probe@{address.ToParsableString()}");
            var reply = await grain.Probe(model, dims);
            if (reply.NeedsModel)
            {
                long bytes = await ModelCache.SendAsync(client.GetGrain<IModelGrain>(model.GrainKey(address.ToParsableString())), model, model.Path, 4 << 20);
                log?.Invoke($"silo {reply.Name} has no copy of the model: sent it ({bytes:N0} bytes)");
                reply = await grain.Probe(model, dims);
            }
            if (reply.Error is { } error) throw new SiloModelException($"silo {reply.Name} ({reply.Silo}): model {model.Path} failed to load: {error}");
            double empty = await EchoSeconds(grain, []), full = await EchoSeconds(grain, new byte[EchoBytes]);
            return new SiloProbe(reply.Silo, reply.Name, reply.Cores, reply.Seconds, reply.Seconds / predicted, empty, Math.Max(0, full - empty) / EchoBytes);
        }
        catch (Exception e) when (e is not LoomException) { return null; }
        finally { RequestContext.Remove(IPlacementDirector.PlacementHintKey); }
    }

    /// <summary>The fastest of three round trips carrying <paramref name="payload"/>.</summary>
    private static async Task<double> EchoSeconds(IStageGrain grain, byte[] payload)
    {
        double best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            await grain.Echo(payload).WaitAsync(TimeSpan.FromSeconds(10));
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
