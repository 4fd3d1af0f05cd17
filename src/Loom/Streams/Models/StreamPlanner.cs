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
/// Then each stage gets its items per firing (<see cref="ItemsPerFiring"/>): a batch-separable stage whose weights
/// outgrow the last-level (shared) cache runs several items as one batch, reading its weights once for them all.
/// </summary>
internal static class StreamPlanner
{
    /// <param name="itemsPerFiring">Every stage's items per firing (<see cref="ModelStreamOptions.ItemsPerFiring"/>), or null to choose.</param>
    /// <param name="whyNotBatch">Why stage [first, end) cannot run a batch (null when it can); asked only of stages that would batch.</param>
    /// <param name="sharedCache">The last-level cache (all cores'): weights beyond it stream from memory, which batching saves.</param>
    public static ModelStreamPlan Plan(CutProfile profile, int cores, int? stages, long privateCache, int? itemsPerFiring = null, Func<int, int, string?>? whyNotBatch = null,
        long sharedCache = long.MaxValue)
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
        var chosen = best.Stages.Select(st => Scaled(profile, st, privateCache, sharedCache, itemsPerFiring, whyNotBatch ?? ((_, _) => null))).ToList();
        double perSecond = chosen.Min(st => st.Replicas / Math.Max(st.PredictedSeconds, 1e-9));
        if (chosen.Count > cores) perSecond = Math.Min(perSecond, cores / Math.Max(chosen.Sum(st => st.PredictedSeconds), 1e-9));
        return new ModelStreamPlan
        {
            Cores = cores, Stages = chosen, PredictedItemsPerSecond = perSecond,
            Candidates = candidates.Select(c => c.Candidate).ToList(), PredictedOneCoreSeconds = profile.TotalSeconds,
            PrivateCacheBytes = privateCache, Nodes = profile.Count,
            SharedCacheBytes = sharedCache, MemoryBytesPerSecond = 1 / profile.Cost.Profile.MemorySecondsPerByte,
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

    /// <summary>The most items a stage runs per firing when the planner chooses.</summary>
    public const int MaxItemsPerFiring = 8;

    /// <summary>The share of a stage's compute its weights' re-reading may cost per item once batched.</summary>
    public const double ReReadShare = 0.05;

    /// <summary>The most bytes the largest activation of a batch may take (b × one item's): larger batches leave the shared cache for memory.</summary>
    public const long BatchActivationBytes = 128L << 20;

    /// <summary>
    /// The stage with its items per firing b and its seconds per item at b. b = 1 when its weights fit the shared
    /// cache (re-reading them from there costs little: SqueezeNet's 3.5 MiB stays unbatched), it holds state (items in order, one at a time) or it is not batch-separable; else the
    /// least b that brings re-reading its weights from memory at the machine profile's rate
    /// (<see cref="MachineProfile.MemoryBytesPerSecond"/>: one core's, probed; b items share one read) within <see cref="ReReadShare"/>
    /// of its compute, at most <see cref="MaxItemsPerFiring"/> and at most what keeps its largest activation at batch
    /// b within <see cref="BatchActivationBytes"/>. A given b (<paramref name="forced"/>) is taken where the stage can batch.
    /// </summary>
    internal static StagePlan Scaled(CutProfile profile, StagePlan s, long privateCache, long sharedCache, int? forced, Func<int, int, string?> whyNotBatch)
    {
        int b;
        if (forced is { } f) b = Math.Max(1, f);
        else if (s.WeightBytes <= sharedCache) return s;
        else
        {
            double compute = profile.StageSeconds(s.First, s.End);
            double reread = s.WeightBytes * profile.Cost.Profile.MemorySecondsPerByte; // one core's read rate, probed (MemoryProbe)
            b = (int)Math.Clamp(Math.Ceiling(reread / (ReReadShare * Math.Max(compute, 1e-9))), 1, MaxItemsPerFiring);
            b = (int)Math.Min(b, Math.Max(1, BatchActivationBytes / Math.Max(1, profile.LargestValueBytes(s.First, s.End))));
        }
        if (b == 1) return s;
        string? why = s.Stateful ? "stateful: items in order" : whyNotBatch(s.First, s.End);
        if (why is not null) return s with { WhyOneItem = why };
        // The planner's charge for weights beyond the private cache is paid once a firing: b items share it.
        double charge = s.WeightBytes > privateCache ? s.WeightBytes * profile.Cost.Profile.Transfer.SecondsPerWork : 0;
        return s with { ItemsPerFiring = b, PredictedSeconds = s.PredictedSeconds - charge + charge / b };
    }
}
