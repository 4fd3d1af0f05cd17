using Loom.Runtime.Threading;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Runs a partitioned program on a <see cref="WorkerPool"/>: in each round every core runs its actors' part
/// of the (scaled) steady schedule, a fixed number of times, each actor on steady state round − stage; the pool's join is the
/// barrier between rounds. Producers run ahead of their consumers on other cores by whole steady states,
/// into rings sized for it, so no item is read before it is written and none is overwritten before it is read.
/// </summary>
internal sealed class ParallelRunner
{
    private readonly (ActorCode Code, int Count, int Stage)[][] _steps;

    private readonly int _repeat;

    public ParallelRunner(StreamProgram p, Partition part, int repeat)
    {
        _repeat = repeat;
        _steps = new (ActorCode, int, int)[part.Cores][];
        for (int c = 0; c < part.Cores; c++)
            _steps[c] = p.Schedule.ScaledSteady.Where(f => part.Core[f.Actor.Index] == c)
                .Select(f => (p.Code[f.Actor.Index], f.Count, part.Stage[f.Actor.Index])).ToArray();
        Stages = part.Stages;
    }

    public int Stages { get; }

    private struct Round(ParallelRunner r, long round, long total) : IParallelJob
    {
        public readonly void Execute(int core)
        {
            var steps = r._steps[core];
            for (int j = 0; j < r._repeat; j++)
                foreach (var (code, count, stage) in steps)
                {
                    long s = round - stage;
                    if (s >= 0 && s < total) code.Fire(count);
                }
        }
    }

    /// <summary>Runs <paramref name="scaledIterations"/> scaled steady states through the pipeline (filling and draining it).</summary>
    public void Run(WorkerPool pool, long scaledIterations)
    {
        long rounds = scaledIterations + Stages - 1;
        if (scaledIterations == long.MaxValue) rounds = long.MaxValue;
        for (long t = 0; t < rounds; t++) pool.Run(_steps.Length, new Round(this, t, scaledIterations));
    }
}
