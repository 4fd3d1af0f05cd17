namespace Loom.Cluster.Jobs;

/// <summary>Persists a job's state in the "loom" grain storage (ADO.NET in a real cluster, memory in tests and --localhost).</summary>
public sealed class ScoringJobGrain([PersistentState("job", ClusterNames.Storage)] IPersistentState<JobState> state) : Grain, IScoringJobGrain
{
    public Task<JobState?> Get() => Task.FromResult(state.RecordExists ? state.State : null);

    public async Task Create(JobState plan)
    {
        // A retried Create (the first reply was lost) finds its own plan: nothing to do.
        if (state.RecordExists && state.State.Id == plan.Id && state.State.ModelSha256 == plan.ModelSha256 && state.State.Input == plan.Input) return;
        if (state.RecordExists) throw new ClusterJobException($"job {plan.Id} exists already");
        plan.Created = plan.Updated = DateTime.UtcNow;
        state.State = plan;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IJobIndexGrain>(0).Add(plan.Id);
    }

    public async Task ShardDone(ShardResult result)
    {
        state.State.Done[result.Index] = result;
        state.State.Updated = DateTime.UtcNow;
        await state.WriteStateAsync();
    }

    public async Task SetStatus(string status, string? error)
    {
        state.State.Status = status;
        state.State.Error = error;
        state.State.Updated = DateTime.UtcNow;
        await state.WriteStateAsync();
    }
}

public sealed class JobIndexGrain([PersistentState("jobs", ClusterNames.Storage)] IPersistentState<List<string>> state) : Grain, IJobIndexGrain
{
    public async Task Add(string jobId)
    {
        if (state.State.Contains(jobId)) return;
        state.State.Add(jobId);
        await state.WriteStateAsync();
    }

    public Task<string[]> List() => Task.FromResult(state.State.ToArray());
}
