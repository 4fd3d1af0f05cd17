using System.Diagnostics;

namespace Loom.Runtime.Threading;

/// <summary>
/// Totals over a <see cref="WorkerPool"/>'s jobs, for finding where two threads lose time: how long workers took to
/// start a job after it was published, how long the caller waited at the join for the last worker part, and how long
/// workers sat idle at a job's end while the caller finished, and the threads' CPU time inside parts. Collected only with LOOM_POOL_STATS=1 (two-thread pools:
/// with more workers the first start and last end are those of whichever worker wrote last).
/// </summary>
public sealed class WorkerPoolStats
{
    private readonly Lock _lock = new();
    private long _jobs, _parts, _wall, _startLatency, _callerWait, _workerIdle, _workerless, _detect, _partCpuNs, _workerParts, _workerCpuNs;

    /// <summary>Adds one part's thread CPU time (both threads' parts: what the split costs in work, waiting and preemption excluded).</summary>
    internal void AddPartCpu(long ns) => Interlocked.Add(ref _partCpuNs, ns);

    /// <summary>Adds one part a worker (not the caller) ran, with its thread CPU time: how the parts fell between the threads.</summary>
    internal void AddWorkerPart(long ns)
    {
        Interlocked.Increment(ref _workerParts);
        Interlocked.Add(ref _workerCpuNs, ns);
    }

    /// <summary>Parts the workers ran and their CPU microseconds (the caller's: <see cref="Totals"/> less these).</summary>
    public (long Parts, double CpuUs) WorkerShare() => (Interlocked.Read(ref _workerParts), Interlocked.Read(ref _workerCpuNs) / 1e3);

    internal void Add(int parts, long published, long callerDone, long end, long workerFirst, long workerLast)
    {
        lock (_lock)
        {
            _jobs++;
            _parts += parts;
            _wall += end - published;
            _callerWait += end - callerDone;
            if (workerFirst == 0) { _workerless++; _workerIdle += end - published; return; }
            _startLatency += workerFirst - published;
            _workerIdle += end - workerLast;
            // The worker finished last: from its last part to the caller seeing the job done is the join's own latency.
            if (workerLast > callerDone) _detect += end - workerLast;
        }
    }

    /// <summary>Forgets the totals so far.</summary>
    public void Reset()
    {
        lock (_lock) _jobs = _parts = _wall = _startLatency = _callerWait = _workerIdle = _workerless = _detect = _partCpuNs = _workerParts = _workerCpuNs = 0;
    }

    /// <summary>
    /// Jobs, parts, and microseconds summed over jobs: wall, worker start latency, caller's wait at the join, workers' idle end, and the
    /// join's latency (last worker part's end to the caller seeing it, where a worker finished last); jobs no worker joined.
    /// </summary>
    public (long Jobs, long Parts, double WallUs, double StartUs, double CallerWaitUs, double WorkerIdleUs, long Workerless, double DetectUs, double PartCpuUs) Totals()
    {
        lock (_lock)
        {
            double us = 1e6 / Stopwatch.Frequency;
            return (_jobs, _parts, _wall * us, _startLatency * us, _callerWait * us, _workerIdle * us, _workerless, _detect * us, Interlocked.Read(ref _partCpuNs) / 1e3);
        }
    }
}
