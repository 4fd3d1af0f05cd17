using System.CommandLine;
using Loom.Cluster;
using Loom.Cluster.Hosting;

namespace Loom.Cli.Commands;

/// <summary><c>loom silo</c>: runs one Orleans silo of a Loom cluster until stopped; <c>loom cluster-init</c>: creates Loom's cluster tables.</summary>
internal static class SiloCommand
{
    public static Command Create()
    {
        var db = new Option<string?>("--cluster-db") { Description = "PostgreSQL connection string of the cluster's membership and job tables" };
        var localhost = new Option<bool>("--localhost") { Description = "a development cluster on this machine, no database (job state in memory)" };
        var port = new Option<int>("--port") { Description = "silo-to-silo port", DefaultValueFactory = _ => ClusterNames.SiloPort };
        var gateway = new Option<int>("--gateway") { Description = "client gateway port", DefaultValueFactory = _ => ClusterNames.GatewayPort };
        var advertise = new Option<string?>("--advertise") { Description = "IP address other silos and clients reach this silo at (default: Orleans' pick)" };
        var name = new Option<string?>("--name") { Description = "silo name shown in progress and `loom jobs`" };
        var primary = new Option<int?>("--primary") { Description = "--localhost: silo port of the first silo, when starting more than one" };
        var maxModel = new Option<long?>("--max-model-bytes") { Description = "largest model file this silo loads; a larger one stops the job naming this silo" };
        var cmd = new Command("silo", "run one silo of a Loom cluster (Microsoft Orleans) until stopped") { db, localhost, port, gateway, advertise, name, primary, maxModel };
        cmd.SetAction(p => CliOptions.Guard(() => SiloHost.RunAsync(new SiloSettings(p.GetValue(db), p.GetValue(localhost), p.GetValue(port), p.GetValue(gateway),
            p.GetValue(advertise), p.GetValue(name), p.GetValue(primary), p.GetValue(maxModel))).GetAwaiter().GetResult()));
        return cmd;
    }

    public static Command CreateInit()
    {
        var db = new Option<string>("--cluster-db") { Description = "PostgreSQL connection string", Required = true };
        var cmd = new Command("cluster-init", "create Loom's cluster membership and job-state tables in PostgreSQL unless present") { db };
        cmd.SetAction(p => CliOptions.Guard(() =>
        {
            ClusterDb.InitAsync(p.GetValue(db)!, "--cluster-db").GetAwaiter().GetResult();
            Console.Error.WriteLine("cluster database ready");
            return 0;
        }));
        return cmd;
    }
}
