using Loom.Cluster.Hosting;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Loom.Cluster.Tests;

/// <summary>An Orleans TestingHost cluster of in-process silos with Loom's grains and memory job storage.</summary>
public class InProcessCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    /// <summary>More silo configuration (a subclass's), applied after Loom's.</summary>
    protected virtual void Configure(TestClusterBuilder builder) { }

    public async ValueTask InitializeAsync()
    {
        var builder = new TestClusterBuilder(3);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Configure(builder);
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddMemoryGrainStorage(ClusterNames.Storage);
            silo.Configure<Orleans.Configuration.ClusterMembershipOptions>(ClusterTimings.Apply);
        }
    }
}
