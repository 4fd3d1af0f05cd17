namespace Loom.Cluster;

/// <summary>Names every silo and client of a Loom cluster must agree on.</summary>
public static class ClusterNames
{
    /// <summary>Orleans ClusterId and ServiceId: the rows of the membership and storage tables that are Loom's.</summary>
    public const string ClusterId = "loom", ServiceId = "loom";

    /// <summary>The grain storage that holds job state.</summary>
    public const string Storage = "loom";

    /// <summary>Default ports: silo-to-silo and client gateway.</summary>
    public const int SiloPort = 11111, GatewayPort = 30000;

    /// <summary>How errors and logs name a silo: "NAME (ADDRESS)".</summary>
    public static string Describe(Orleans.Runtime.ILocalSiloDetails silo) => silo.Name + " (" + silo.SiloAddress.ToParsableString() + ")";
}
