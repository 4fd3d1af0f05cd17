using System.Collections.Immutable;
using System.Diagnostics;
using Loom.Cluster.Codec;
using Loom.Cluster.Grains;
using Loom.Cluster.Hosting;
using Orleans.Runtime.Placement;

namespace Loom.Cluster.Pipelines;

/// <summary>
/// A model pipeline across silos, driven by the client: item i goes through stage 0, then 1, … K−1, each a call
/// to that stage's grain carrying the tensors the stage reads (chunked) and returning what it writes; the client
/// keeps the item's tensors between stages. At most W items are admitted and not yet handed to the caller
/// (back-pressure), and outputs are handed over in input order.
///
/// Failure semantics: a stage call is acknowledged by its reply. A silo that membership stops listing (or
/// that stops answering) has its calls in flight cancelled; the stage is placed again on a live silo (a fresh
/// grain) and every item whose call was not acknowledged is sent to it again from that stage — the client still
/// holds the item's tensors at that point. The sink keeps one output per sequence number (a late duplicate is
/// dropped and counted), so every input gets exactly one output.
/// </summary>
public sealed class ClusterPipeline : IAsyncDisposable
{
    private readonly IClusterClient _client;
    private readonly PipelineRequest _req;
    private readonly Action<string>? _log;
    private readonly PipelinePlanner.Planned _planned;
    private readonly Task<Placement>[] _placements;
    private readonly StageCounter[] _counters;
    private readonly HashSet<SiloAddress> _lost = [];
    private readonly object _lock = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _generation, _replacements, _replayed, _duplicates;
    private long _sent, _received;
    private CancellationTokenSource _run = new();
    private Exception? _fatal;

    private sealed record Placement(int Stage, SiloAddress Address, string Name, IStageGrain Grain)
    {
        public CancellationTokenSource Lost { get; } = new();
    }

    private sealed class StageCounter
    {
        public int Items;
        public double Busy;
        public readonly List<string> Silos = [];
    }

    /// <summary>The stage's grain answered that it has no stage (a fresh activation): place it again.</summary>
    private sealed class NotPreparedException : Exception;

    private ClusterPipeline(IClusterClient client, PipelineRequest req, Action<string>? log, PipelinePlanner.Planned planned)
    {
        (_client, _req, _log, _planned) = (client, req, log, planned);
        _placements = new Task<Placement>[planned.Specs.Length];
        _counters = planned.Specs.Select(_ => new StageCounter()).ToArray();
    }

    public PipelinePlan Plan => _planned.Plan;
    public ImmutableArray<ValueMetadata> Inputs => _planned.Inputs;
    public IReadOnlyList<string> Outputs => _planned.Outputs;

    /// <summary>Plans the pipeline (<see cref="PipelinePlanner"/>) and prepares every stage on its silo.</summary>
    public static async Task<ClusterPipeline> StartAsync(IClusterClient client, PipelineRequest req, Action<string>? log = null)
    {
        var pipeline = new ClusterPipeline(client, req, log, await PipelinePlanner.PlanAsync(client, req, log));
        for (int s = 0; s < pipeline._placements.Length; s++)
            pipeline._placements[s] = pipeline.PlaceOn(s, pipeline._planned.Sites[s]);
        try { await Task.WhenAll(pipeline._placements); }
        catch
        {
            await pipeline.DisposeAsync();
            throw;
        }
        return pipeline;
    }

    private void Log(string message) => _log?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds:F1} s] {message}"));

    private string NameOf(SiloAddress a) => _planned.Names.TryGetValue(a.ToParsableString(), out var n) ? n : a.ToParsableString();

    /// <summary>Places stage <paramref name="s"/> on a silo: a fresh grain there, prepared (the model uploaded first if the silo has no copy).</summary>
    private async Task<Placement> PlaceOn(int s, SiloAddress address)
    {
        var spec = _planned.Specs[s];
        string silo = address.ToParsableString();
        RequestContext.Set(IPlacementDirector.PlacementHintKey, address);
        try
        {
            var grain = _client.GetGrain<IStageGrain>(spec.GrainKey(silo, Interlocked.Increment(ref _generation)));
            var reply = await grain.Prepare(spec);
            if (reply.NeedsModel)
            {
                await ModelCache.SendAsync(_client.GetGrain<IModelGrain>(spec.Model.GrainKey(silo)), spec.Model, spec.Model.Path, _req.MaxChunkBytes);
                reply = await grain.Prepare(spec);
            }
            if (reply.Error is { } error) throw new SiloModelException($"silo {NameOf(address)} ({reply.Silo}): model {spec.Model.Path}: {error}");
            lock (_lock) _counters[s].Silos.Add(NameOf(address));
            return new Placement(s, address, NameOf(address), grain);
        }
        finally { RequestContext.Remove(IPlacementDirector.PlacementHintKey); }
    }

    /// <summary>
    /// Runs every item through the pipeline; <paramref name="onOutput"/> gets each item's outputs (the model's, by
    /// name) once, in input order. Throws the first error that would repeat anywhere (a stage that fails on an item,
    /// a model that does not load), naming the silo, stage and item.
    /// </summary>
    public async Task<PipelineResult> RunAsync(IEnumerable<IReadOnlyDictionary<string, LoomValue>> items, Action<long, (string Name, Tensor Value)[]> onOutput,
        CancellationToken cancellation = default)
    {
        _run = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        _fatal = null;
        var clock = Stopwatch.StartNew();
        int window = _req.Window > 0 ? _req.Window : 2 * _placements.Length;
        using var slots = new SemaphoreSlim(window);
        var done = new Dictionary<long, (string, Tensor)[]>();
        var running = new List<Task>();
        long next = 0, admitted = 0;
        var watcher = Task.Run(WatchMembership);
        try
        {
            foreach (var item in items)
            {
                await slots.WaitAsync(_run.Token);
                if (_fatal is not null) break;
                long seq = admitted++;
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        var values = await RunItem(seq, item);
                        var outputs = Outputs.Select(n => (n, values[n])).ToArray();
                        lock (done)
                        {
                            if (seq < next || !done.TryAdd(seq, outputs)) { Interlocked.Increment(ref _duplicates); return; }
                            while (done.Remove(next, out var o))
                            {
                                onOutput(next++, o);
                                slots.Release();
                            }
                        }
                    }
                    catch (Exception e)
                    {
                        Fail(e);
                        slots.Release();
                    }
                }));
            }
            await Task.WhenAll(running);
        }
        catch (OperationCanceledException) when (_fatal is not null) { await Task.WhenAll(running); }
        finally
        {
            _run.Cancel();
            try { await watcher; } catch (OperationCanceledException) { }
        }
        if (_fatal is not null) throw _fatal;
        cancellation.ThrowIfCancellationRequested();
        if (next != admitted) throw new ExecutionException($"internal: {admitted} items admitted, {next} outputs handed over");
        lock (_lock)
            return new PipelineResult((int)admitted, clock.Elapsed.TotalSeconds,
                _counters.Select((c, s) => new PipelineStageStats(s, string.Join("->", c.Silos), c.Items, c.Busy)).ToList(),
                _replacements, _replayed, Interlocked.Read(ref _sent), Interlocked.Read(ref _received), _duplicates);
    }

    private void Fail(Exception e)
    {
        lock (_lock) _fatal ??= e is LoomException ? e : new ClusterUnavailableException($"pipeline: {e.Message}", e);
        _run.Cancel();
    }

    /// <summary>One item through every stage: each stage gets the tensors it reads; what it writes joins the item's tensors.</summary>
    private async Task<Dictionary<string, Tensor>> RunItem(long seq, IReadOnlyDictionary<string, LoomValue> item)
    {
        var values = new Dictionary<string, Tensor>();
        foreach (var (name, v) in item) values[name] = v as Tensor ?? throw new UnsupportedException($"item {seq}: input '{name}' is not a tensor");
        for (int s = 0; s < _placements.Length; s++)
        {
            var reads = _planned.Specs[s].Reads;
            var payload = TensorCodec.Encode(reads.Select(n => (n, values.TryGetValue(n, out var t) ? t : throw new InputException($"item {seq}: no input named '{n}'"))).ToArray());
            foreach (var (name, t) in TensorCodec.Decode(await CallStage(s, seq, payload))) values[name] = t;
        }
        return values;
    }

    /// <summary>Sends an item to stage <paramref name="s"/> until a placement of it acknowledges it, placing the stage again when its silo is lost.</summary>
    private async Task<byte[]> CallStage(int s, long seq, byte[] payload)
    {
        int failures = 0;
        for (bool again = false; ; again = true)
        {
            _run.Token.ThrowIfCancellationRequested();
            Task<Placement> current;
            lock (_lock) current = _placements[s];
            var p = await current;
            if (again) Interlocked.Increment(ref _replayed);
            try { return await Send(p, seq, payload); }
            catch (Exception e) when (e is not LoomException && !_run.IsCancellationRequested)
            {
                if (e is NotPreparedException) Replace(s, current, p, "its grain lost the stage");
                else if (p.Lost.IsCancellationRequested || !await Answers(p))
                {
                    lock (_lock) _lost.Add(p.Address);
                    p.Lost.Cancel();
                    Replace(s, current, p, "its silo is lost");
                }
                else if (++failures >= 3) throw new ClusterUnavailableException($"stage {s} on silo {p.Name}: item {seq} failed 3 times while the silo is alive: {e.Message}", e);
            }
        }
    }

    private async Task<byte[]> Send(Placement p, long seq, byte[] payload)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(p.Lost.Token, _run.Token);
        var chunks = StageGrain.Split(payload, _req.MaxChunkBytes);
        StageReply reply = null!;
        for (int i = 0; i < chunks.Length; i++)
        {
            reply = Check(await p.Grain.Push(seq, i, chunks.Length, chunks[i]).WaitAsync(cancel.Token), p, seq);
            Interlocked.Add(ref _sent, chunks[i].Length);
        }
        var parts = new byte[reply.Parts][];
        parts[0] = reply.Chunk!;
        for (int i = 1; i < parts.Length; i++) parts[i] = Check(await p.Grain.Pull(seq, i).WaitAsync(cancel.Token), p, seq).Chunk!;
        var bytes = parts.Length == 1 ? parts[0] : parts.SelectMany(c => c).ToArray();
        Interlocked.Add(ref _received, bytes.Length);
        lock (_lock)
        {
            _counters[p.Stage].Items++;
            _counters[p.Stage].Busy += reply.Seconds;
        }
        return bytes;
    }

    private StageReply Check(StageReply reply, Placement p, long seq)
    {
        if (reply.NotPrepared) throw new NotPreparedException();
        if (reply.Error is { } error) throw new SiloModelException($"silo {p.Name} ({reply.Silo}): model {_planned.Model.Path}: {error}");
        return reply;
    }

    /// <summary>Whether a silo whose call failed is still listed as active and answers within 2 s.</summary>
    private async Task<bool> Answers(Placement p)
    {
        try
        {
            if (!(await Membership.ActiveHostsAsync(_client, "pipeline")).ContainsKey(p.Address)) return false;
            await p.Grain.Echo([]).WaitAsync(TimeSpan.FromSeconds(2));
            return true;
        }
        catch (Exception e) when (e is not LoomException) { return false; }
    }

    /// <summary>Places stage <paramref name="s"/> again, once per lost placement: items that failed on it wait on the new one.</summary>
    private void Replace(int s, Task<Placement> failed, Placement lost, string why)
    {
        lock (_lock)
        {
            if (_placements[s] != failed) return; // another item already replaced it
            _replacements++;
            _placements[s] = PlaceAgain(s, lost, why);
        }
    }

    private async Task<Placement> PlaceAgain(int s, Placement lost, string why)
    {
        for (int attempt = 1; ; attempt++)
        {
            var hosts = await Membership.ActiveHostsAsync(_client, "pipeline");
            SiloAddress? target;
            lock (_lock)
            {
                var load = _placements.Where(t => t.IsCompletedSuccessfully).GroupBy(t => t.Result.Address).ToDictionary(g => g.Key, g => g.Count());
                target = hosts.Keys.Where(h => !_lost.Contains(h))
                    .OrderBy(h => load.GetValueOrDefault(h)).ThenBy(h => h.ToParsableString(), StringComparer.Ordinal).FirstOrDefault();
            }
            if (target is null)
            {
                if (attempt >= 30) throw new ClusterUnavailableException($"stage {s}: no live silo left to place it on");
                await Task.Delay(1000);
                continue;
            }
            try
            {
                var p = await PlaceOn(s, target);
                Log($"stage {s}: {why} (silo {lost.Name}); placed again on silo {p.Name}, replaying the items it had not acknowledged");
                return p;
            }
            catch (Exception e) when (e is not LoomException && attempt < 30)
            {
                lock (_lock) _lost.Add(target); // dying too, most likely
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Every second: placements on silos membership no longer lists as active have their calls cancelled at once.</summary>
    private async Task WatchMembership()
    {
        while (!_run.IsCancellationRequested)
        {
            try
            {
                var hosts = await Membership.ActiveHostsAsync(_client, "pipeline").WaitAsync(_run.Token);
                Placement[] current;
                lock (_lock) current = _placements.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToArray();
                foreach (var p in current)
                    if (!hosts.ContainsKey(p.Address) && !p.Lost.IsCancellationRequested)
                    {
                        lock (_lock) _lost.Add(p.Address);
                        Log($"silo {p.Name} ({p.Address}) is no longer active: stage {p.Stage}'s calls in flight are cancelled");
                        p.Lost.Cancel();
                    }
            }
            catch (LoomException) { /* no silo answered for membership: the calls themselves will tell */ }
            await Task.Delay(1000, _run.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var t in _placements)
            if (t is { IsCompletedSuccessfully: true })
                try { await t.Result.Grain.Release().WaitAsync(TimeSpan.FromSeconds(2)); }
                catch (Exception) { /* its silo may be gone: nothing to release */ }
    }
}
