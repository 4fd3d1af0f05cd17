namespace Loom.Streams.Models;

/// <summary>
/// Chooses how a model runs as a stream on P cores. For each number of stages K (1..P, or the K asked for) it
/// cuts the graph into K balanced stages (<see cref="CutProfile.Cut"/>), gives the P − K spare cores one at a
/// time to the stage with the least throughput (fission), and predicts items per second as the slowest stage's
/// copies ÷ its seconds per item. A stage's seconds include re-reading its weights from the shared cache
/// when they do not fit a core's private cache: that is what a pipeline saves over replicas of the whole model,
/// each core then touching only its own stage's weights. The best prediction wins; fewer stages win within 3%
/// (fewer hand-offs, and replicas do not depend on a balance the cost model may get wrong). A stage holding
/// recurrent state (<see cref="CutProfile.Together"/>) is never copied.
/// </summary>
internal static class StreamPlanner
{
    public static ModelStreamPlan Plan(CutProfile profile, int cores, int? stages, long privateCache)
    {
        if (cores < 1) throw new InputException($"cores must be at least 1, not {cores}");
        if (stages is < 1) throw new InputException($"stages must be at least 1, not {stages}");
        int n = profile.MaxStages;
        if (stages > n && profile.Together is { } t)
            throw new InputException($"cannot cut the model into {stages} stages: its state fed back keeps line nodes {t.First}..{t.Last} of {profile.Count} in one stage, which leaves at most {n}");
        var shapes = stages is { } k ? [Math.Min(k, n)] : Enumerable.Range(1, Math.Min(cores, n)).ToArray();
        var candidates = new List<(PlanCandidate Candidate, List<StagePlan> Stages)>();
        foreach (int kk in shapes) candidates.Add(Evaluate(profile, cores, kk, privateCache));
        var best = candidates[0];
        foreach (var c in candidates.Skip(1))
            if (c.Candidate.PredictedItemsPerSecond > best.Candidate.PredictedItemsPerSecond * 1.03) best = c;
        return new ModelStreamPlan
        {
            Cores = cores, Stages = best.Stages, PredictedItemsPerSecond = best.Candidate.PredictedItemsPerSecond,
            Candidates = candidates.Select(c => c.Candidate).ToList(), PredictedOneCoreSeconds = profile.TotalSeconds,
            PrivateCacheBytes = privateCache, Nodes = profile.Count,
        };
    }

    private static (PlanCandidate, List<StagePlan>) Evaluate(CutProfile profile, int cores, int k, long privateCache)
    {
        var starts = profile.Cut(k);
        int count = starts.Length;
        var ends = starts.Skip(1).Append(profile.Count).ToArray();
        double rate = profile.Cost.Profile.Transfer.SecondsPerWork; // seconds per byte from the shared cache
        var seconds = new double[count];
        var weights = new long[count];
        for (int s = 0; s < count; s++)
        {
            weights[s] = profile.WeightBytes(starts[s], ends[s]);
            seconds[s] = profile.StageSeconds(starts[s], ends[s]) + (weights[s] > privateCache ? weights[s] * rate : 0);
        }
        var replicas = Enumerable.Repeat(1, count).ToArray();
        var stateful = Enumerable.Range(0, count).Select(s => profile.IsStateful(starts[s], ends[s])).ToArray();
        for (int spare = cores - count; spare > 0; spare--)
        {
            int slowest = -1; // a stateful stage runs its items in order: it gets no copies
            for (int s = 0; s < count; s++)
                if (!stateful[s] && (slowest < 0 || seconds[s] / replicas[s] > seconds[slowest] / replicas[slowest])) slowest = s;
            if (slowest < 0) break;
            replicas[slowest]++;
        }
        double perSecond = Enumerable.Range(0, count).Min(s => replicas[s] / Math.Max(seconds[s], 1e-9));
        if (count > cores) perSecond = Math.Min(perSecond, cores / Math.Max(seconds.Sum(), 1e-9)); // more stages than cores share them
        var plans = new List<StagePlan>();
        for (int s = 0; s < count; s++)
        {
            var reads = profile.Reads(starts[s], ends[s]);
            plans.Add(new StagePlan(s, starts[s], ends[s], replicas[s], seconds[s], weights[s], reads, profile.Bytes(reads), profile.Writes(starts[s], ends[s])) { Stateful = stateful[s] });
        }
        return (new PlanCandidate(count, replicas, perSecond), plans);
    }

    /// <summary>The private (per-core) cache: the largest cache level of cpu0 shared by one core only; 1 MiB when unknown.</summary>
    public static long PrivateCacheBytes()
    {
        long best = 0;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/sys/devices/system/cpu/cpu0/cache", "index*"))
            {
                var shared = File.ReadAllText(Path.Combine(dir, "shared_cpu_list")).Trim();
                if (shared.Contains(',') || shared.Contains('-')) continue; // shared by several cores
                var size = File.ReadAllText(Path.Combine(dir, "size")).Trim();
                long v = size.EndsWith('K') ? long.Parse(size[..^1]) * 1024 : size.EndsWith('M') ? long.Parse(size[..^1]) << 20 : long.Parse(size);
                best = Math.Max(best, v);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return best > 0 ? best : 1L << 20;
    }
}
