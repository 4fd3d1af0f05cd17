using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Loom.Cli.Scoring;
using Loom.Cluster.Codec;
using Loom.Cluster.Grains;
using Loom.Cluster.Jobs;
using Orleans.Runtime.Placement;

namespace Loom.Cluster.Scoring;

/// <summary>
/// Runs a scoring job from the client: plans shards (or reloads a job's plan), puts as many shards in flight
/// on each silo as it has cores, streams each shard's rows to the silo's model grain in chunks, writes each
/// shard's predictions to its own part file (temp + rename), records the shard as done in the job grain, and
/// finally joins the parts in input order and writes a manifest.
///
/// Failure semantics: a shard whose silo fails mid-way is abandoned (its temporary part is deleted) and
/// queued again; it is recorded done only once its part file is in place, so each row is written exactly
/// once. Errors that would repeat anywhere (the model does not load, a row does not parse) stop the job,
/// naming the silo or shard; finished parts stay for <c>--resume</c>.
/// </summary>
public sealed class ClusterScoring
{
    private readonly IClusterClient _client;
    private readonly ClusterScoreRequest _req;
    private readonly Action<ScoreProgress>? _progress;
    private readonly Action<string>? _log;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, int> _failures = new();
    private readonly Channel<ShardPlan> _queue = Channel.CreateUnbounded<ShardPlan>();
    private readonly object _lock = new();
    private JobState _job = new();
    private IScoringJobGrain _jobGrain = null!;
    private ModelRef _model = null!;
    private ModelDescription _description = null!;
    private int[] _columnOf = [];
    private int _remaining, _rerun;
    private long _sent, _received;
    private Exception? _fatal;
    private readonly Dictionary<SiloAddress, SiloSlot> _known = [];

    private ClusterScoring(IClusterClient client, ClusterScoreRequest req, Action<ScoreProgress>? progress, Action<string>? log) =>
        (_client, _req, _progress, _log) = (client, req, progress, log);

    /// <summary>Runs (or resumes) a job; <paramref name="progress"/> hears of each finished shard, <paramref name="log"/> of silos lost and shards re-queued.</summary>
    public static Task<ClusterScoreResult> RunAsync(IClusterClient client, ClusterScoreRequest req, Action<ScoreProgress>? progress = null, Action<string>? log = null) =>
        new ClusterScoring(client, req, progress, log).RunAsync();

    private void Log(string message) => _log?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds:F1} s] {message}"));

    /// <summary>A silo with workers; <see cref="Lost"/> is cancelled once membership no longer lists it as active.</summary>
    private sealed record SiloSlot(SiloAddress Address, string Name, int Cores, IModelGrain Grain)
    {
        public CancellationTokenSource Lost { get; } = new();
    }

    private async Task<ClusterScoreResult> RunAsync()
    {
        await LoadOrCreateJob();
        if (_job.Status == JobState.Finished && File.Exists(_job.Output)) return Result();
        Directory.CreateDirectory(_job.PartsDir);
        _model = new ModelRef(Path.GetFullPath(_job.Model), _job.ModelSha256, _job.NumIteration, _job.Strategy);
        var pending = _job.Shards.Where(s => !(_job.Done.TryGetValue(s.Index, out var d) && File.Exists(d.Part))).ToList();
        _remaining = pending.Count;
        foreach (var s in pending) _queue.Writer.TryWrite(s);
        if (_remaining == 0) _queue.Writer.TryComplete();

        try
        {
            var workers = new Dictionary<SiloAddress, (SiloSlot Slot, Task Task)>();
            var first = true;
            while (Volatile.Read(ref _remaining) > 0 && _fatal is null)
            {
                // (Re)discover silos every second: new ones get workers; a silo membership no longer lists as
                // active has its calls in flight cancelled at once (its process may be gone without a reply,
                // and waiting for Orleans' response timeout would stall those shards for a minute).
                var slots = await ActiveSilos();
                if (first) _columnOf = FeatureMap.Resolve(_description.FeatureNames, ShardReader.Columns(_job.Input), _job.Map, _job.Input);
                first = false;
                foreach (var (address, (slot, _)) in workers)
                    if (!slots.Any(s => s.Address.Equals(address)) && !slot.Lost.IsCancellationRequested)
                    {
                        Log($"silo {slot.Name} ({address}) is no longer active: its shards in flight go back to the queue");
                        slot.Lost.Cancel();
                    }
                foreach (var slot in slots)
                    if (!workers.TryGetValue(slot.Address, out var w) || w.Task.IsCompleted)
                        workers[slot.Address] = (slot, Task.WhenAll(Enumerable.Range(0, _req.InFlightPerSilo ?? slot.Cores).Select(_ => Task.Run(() => Worker(slot)))));
                if (slots.Count == 0 && workers.Values.All(w => w.Task.IsCompleted) && Volatile.Read(ref _remaining) > 0)
                    throw new ClusterUnavailableException($"job {_job.Id}: no active silo left with {_remaining} shards to score");
                await Task.WhenAny(Task.WhenAll(workers.Values.Select(w => w.Task)), Task.Delay(1000));
            }
            await Task.WhenAll(workers.Values.Select(w => w.Task));
            if (_fatal is not null) throw _fatal;
        }
        catch (Exception e)
        {
            _stop.Cancel();
            var error = e is LoomException ? e : new ClusterUnavailableException($"job {_job.Id}: {e.Message}", e);
            try { await JobCall(() => _jobGrain.SetStatus(JobState.Failed, error.Message)); } catch (LoomException) { /* report the first error */ }
            if (error == e) throw;
            throw error;
        }

        var parts = _job.Shards.Select(s => _job.Done[s.Index].Part).ToList();
        PartMerger.Merge(parts, _job.Output);
        Manifest.Write(_job, _clock.Elapsed.TotalSeconds);
        await JobCall(() => _jobGrain.SetStatus(JobState.Finished, null));
        _job.Status = JobState.Finished;
        Directory.Delete(_job.PartsDir, recursive: true);
        return Result();
    }

    private async Task LoadOrCreateJob()
    {
        if (_req.Resume is { } id)
        {
            _jobGrain = _client.GetGrain<IScoringJobGrain>(id);
            _job = await JobCall(_jobGrain.Get) ?? throw new ClusterJobException($"--resume {id}: the cluster has no job of that id (see `loom jobs`)");
            if (!File.Exists(_job.Input) || new FileInfo(_job.Input).Length != _job.InputLength)
                throw new ClusterJobException($"--resume {id}: input {_job.Input} is missing or changed since the job started");
            if (_job.Status != JobState.Finished) await JobCall(() => _jobGrain.SetStatus(JobState.Running, null));
            return;
        }
        if (_req.Model is null || _req.Data is null || _req.Out is null) throw new InputException("score --cluster needs MODEL, DATA and --out (or --resume JOBID)");
        if (!File.Exists(_req.Model)) throw new InputException($"{_req.Model}: no such file");
        var shards = ShardPlanner.Plan(_req.Data, _req.CsvShardBytes);
        string sha;
        using (var f = File.OpenRead(_req.Model)) sha = Convert.ToHexString(SHA256.HashData(f));
        string jobId = "j" + Guid.NewGuid().ToString("N")[..10];
        string output = Path.GetFullPath(_req.Out);
        _job = new JobState
        {
            Id = jobId, Model = Path.GetFullPath(_req.Model), ModelSha256 = sha, Input = Path.GetFullPath(_req.Data), InputLength = new FileInfo(_req.Data).Length,
            Output = output, PartsDir = output + "." + jobId + ".parts", Map = new(_req.Map), Shards = shards, Status = JobState.Running,
            NumIteration = _req.NumIteration, Strategy = _req.Strategy,
        };
        _jobGrain = _client.GetGrain<IScoringJobGrain>(jobId);
        await JobCall(() => _jobGrain.Create(_job));
    }

    /// <summary>
    /// The silos membership lists as active. A silo seen for the first time is asked (through a model grain
    /// placed on it) for its cores and loads the model, so a model that fails on any silo stops the job naming it.
    /// </summary>
    private async Task<List<SiloSlot>> ActiveSilos()
    {
        var hosts = await ActiveHosts();
        var slots = new List<SiloSlot>();
        foreach (var address in hosts.Keys.OrderBy(a => a.ToParsableString(), StringComparer.Ordinal))
        {
            lock (_lock)
                if (_known.TryGetValue(address, out var known)) { slots.Add(known); continue; }
            RequestContext.Set(IPlacementDirector.PlacementHintKey, address);
            var grain = _client.GetGrain<IModelGrain>(_model.GrainKey(address.ToParsableString()));
            try
            {
                var info = await grain.Info().WaitAsync(TimeSpan.FromSeconds(5));
                var reply = await grain.Describe(_model);
                if (reply.NeedsModel)
                {
                    // No shared storage (or another file at that path) on that silo: send it the client's model.
                    long bytes = await ModelCache.SendAsync(grain, _model, _job.Model, _req.MaxChunkBytes);
                    Log($"silo {info.Name} has no copy of the model: sent it ({bytes:N0} bytes)");
                    reply = await grain.Describe(_model);
                }
                if (reply.Error is { } error) throw new SiloModelException($"silo {reply.Silo}: model {_job.Model} failed to load: {error}");
                _description ??= reply.Description!;
                var slot = new SiloSlot(address, info.Name, info.Cores, grain);
                lock (_lock) _known[address] = slot;
                slots.Add(slot);
            }
            catch (Exception e) when (e is not LoomException) { /* a silo dying right now: skip it */ }
            finally { RequestContext.Remove(IPlacementDirector.PlacementHintKey); }
        }
        if (_description is null) throw new ClusterUnavailableException("the cluster has no active silo that answers");
        return slots;
    }

    /// <summary>
    /// Membership's active silos. The management grain answers from whichever silo the client's gateway is;
    /// when that silo was just killed the call would wait for the response timeout, so each try gets 3 s.
    /// </summary>
    private async Task<Dictionary<SiloAddress, SiloStatus>> ActiveHosts()
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return await _client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(3)); }
            catch (Exception e) when (e is not LoomException && attempt < 20) { await Task.Delay(500); }
            catch (Exception e) when (e is not LoomException) { throw new ClusterUnavailableException($"job {_job.Id}: no silo answers for the cluster's membership: {e.Message}", e); }
        }
    }

    /// <summary>One in-flight slot of a silo: takes shards until none are left, the job stops, or the silo dies.</summary>
    private async Task Worker(SiloSlot silo)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token))
            {
                if (!_queue.Reader.TryRead(out var shard)) continue;
                ShardResult result;
                try { result = await RunShard(silo, shard); }
                catch (Exception e) when (e is not LoomException && !_stop.IsCancellationRequested)
                {
                    // The silo (or the link to it) failed: put the shard back for any silo, then wait until this
                    // silo answers again or the cluster declares it dead.
                    Interlocked.Increment(ref _rerun);
                    _queue.Writer.TryWrite(shard);
                    Log($"{shard.Describe(ShardPlanner.IsParquet(_job.Input))} failed on silo {silo.Name} ({e.GetType().Name}: {e.Message.Split('\n')[0]}); queued again");
                    if (!await Recovered(silo)) return;
                    if (_failures.AddOrUpdate(shard.Index, 1, (_, n) => n + 1) >= 3)
                        throw new ShardException($"{_job.Input} {shard.Describe(ShardPlanner.IsParquet(_job.Input))}: failed 3 times on live silos, last on {silo.Name}: {e.Message}", e);
                    continue;
                }
                await JobCall(() => _jobGrain.ShardDone(result));
                lock (_lock) _job.Done[result.Index] = result;
                if (Interlocked.Decrement(ref _remaining) == 0) _queue.Writer.TryComplete();
                _progress?.Invoke(Progress());
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            lock (_lock) _fatal ??= e;
            _stop.Cancel();
        }
    }

    private async Task<bool> Recovered(SiloSlot silo)
    {
        for (var deadline = Stopwatch.StartNew(); deadline.Elapsed < TimeSpan.FromSeconds(60) && !_stop.IsCancellationRequested;)
        {
            try
            {
                var hosts = await ActiveHosts();
                if (!hosts.ContainsKey(silo.Address) || silo.Lost.IsCancellationRequested) return false;
                await silo.Grain.Info().WaitAsync(TimeSpan.FromSeconds(2));
                return true;
            }
            catch (Exception e) when (e is not LoomException) { await Task.Delay(500); }
        }
        return false;
    }

    private async Task<ShardResult> RunShard(SiloSlot silo, ShardPlan shard)
    {
        var clock = Stopwatch.StartNew();
        bool parquet = ShardPlanner.IsParquet(_job.Input);
        int features = _columnOf.Length;
        int rowsPerChunk = Math.Clamp(_req.MaxChunkBytes / Math.Max(1, features * sizeof(float)), 1, 1 << 16);
        string part = Path.Combine(_job.PartsDir, $"part-{shard.Index:D5}{Path.GetExtension(_job.Output)}");
        using var source = ShardReader.Open(_job.Input, shard);
        source.Map(_columnOf);
        using var writer = PredictionWriter.Create(part);
        writer.OutputNames = _description.Outputs;
        var batch = new RowBatch(rowsPerChunk, features);
        long rows = 0, sent = 0, received = 0;
        while (true)
        {
            _stop.Token.ThrowIfCancellationRequested();
            bool more;
            try { more = source.Read(batch); }
            catch (Exception e) when (e is not LoomException) { throw new ShardException($"{_job.Input} {shard.Describe(parquet)}: corrupt: {e.Message}", e); }
            if (!more) break;
            if (batch.Rows == 0) continue;
            var x = batch.Rows * features == batch.Values.Length ? batch.Values : batch.Values.AsSpan(0, batch.Rows * features).ToArray();
            var message = TensorCodec.Encode([(_description.Input, Tensor.FromArray(x, batch.Rows, features))]);
            var reply = await silo.Grain.Score(_model, message).WaitAsync(silo.Lost.Token);
            if (reply.Error is { } error) throw new SiloModelException($"silo {reply.Silo}: model {_job.Model}: {error} (scoring {shard.Describe(parquet)})");
            var outputs = TensorCodec.Decode(reply.Outputs);
            writer.Write(outputs.Select(o => o.Value).ToArray(), batch.Rows);
            rows += batch.Rows;
            sent += message.Length;
            received += reply.Outputs!.Length;
        }
        if (rows == 0) writer.Write([], 0);
        writer.Commit();
        Interlocked.Add(ref _sent, sent);
        Interlocked.Add(ref _received, received);
        return new ShardResult { Index = shard.Index, Rows = rows, Silo = silo.Name, Seconds = clock.Elapsed.TotalSeconds, Part = part, BytesSent = sent, BytesReceived = received };
    }

    /// <summary>Calls the job grain, retrying while the silo that held it is being declared dead and the grain reactivates elsewhere from storage.</summary>
    private static async Task<T> JobCall<T>(Func<Task<T>> call)
    {
        for (int attempt = 1; ; attempt++)
        {
            // 10 s a try: a call to a silo killed a moment ago would otherwise wait out the 60 s response timeout.
            try { return await call().WaitAsync(TimeSpan.FromSeconds(10)); }
            catch (Exception e) when (e is not LoomException && attempt < 12) { await Task.Delay(1000); }
            catch (Exception e) when (e is not LoomException) { throw new ClusterUnavailableException($"the job grain did not answer after {attempt} attempts: {e.Message}", e); }
        }
    }

    private static Task JobCall(Func<Task> call) => JobCall(async () => { await call(); return true; });

    private ScoreProgress Progress()
    {
        lock (_lock)
            return new ScoreProgress(_job.Id, _job.Done.Count, _job.Shards.Count, _job.Done.Values.Sum(d => d.Rows), _clock.Elapsed.TotalSeconds, Stats(_job));
    }

    public static IReadOnlyList<SiloStats> Stats(JobState job) => job.Done.Values.GroupBy(d => d.Silo).OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => new SiloStats(g.Key, g.Sum(d => d.Rows), g.Count(), g.Sum(d => d.Seconds))).ToList();

    private ClusterScoreResult Result() => new(_job.Id, _job.Done.Values.Sum(d => d.Rows), _clock.Elapsed.TotalSeconds, Stats(_job),
        Interlocked.Read(ref _sent), Interlocked.Read(ref _received), _rerun, _job.Output, Manifest.PathOf(_job));
}
