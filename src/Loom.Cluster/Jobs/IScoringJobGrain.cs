namespace Loom.Cluster.Jobs;

/// <summary>
/// Owns one job's plan and progress (key: the job id). Every change is written to grain storage before
/// the call returns, so a shard reported done stays done whichever silo or client dies next.
/// </summary>
public interface IScoringJobGrain : IGrainWithStringKey
{
    /// <summary>The job, or null when no job has this id.</summary>
    Task<JobState?> Get();

    /// <summary>Records a new job's plan (a job id is used once).</summary>
    Task Create(JobState plan);

    /// <summary>Records one finished shard (idempotent: a shard re-run after a lost reply replaces its entry).</summary>
    Task ShardDone(ShardResult result);

    /// <summary>Marks the job finished, failed or running again (on resume), with the error if any.</summary>
    Task SetStatus(string status, string? error);
}

/// <summary>The list of job ids (key 0), for <c>loom jobs</c>.</summary>
public interface IJobIndexGrain : IGrainWithIntegerKey
{
    Task Add(string jobId);
    Task<string[]> List();
}
