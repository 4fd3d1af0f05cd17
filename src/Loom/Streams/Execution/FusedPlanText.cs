using System.Globalization;
using System.Text;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// The text form of fusion's result (<c>loom stream P.str --show fused</c>): what the one-core fused program of
/// <see cref="FusedPlan"/> does with the stream graph that <c>--show graph</c> prints — the unit's steady states,
/// each edge as a buffer in its type's arena or compiled away (a table of where its items already are, or an
/// offset when they lie in a row), the movers (splitters, joiners, data-movement filters) left with no code, and
/// the unit's firings in order. Tests read fusion as before/after text through it.
/// </summary>
public static class FusedPlanText
{
    /// <summary>The fused plan the one-core runtime uses for <paramref name="program"/>, or a line saying why there is none.</summary>
    public static string Text(StreamProgram program)
    {
        var g = program.Flat;
        if (program.Demand is not null) return "not fused: dynamic rates or messages run on the demand-driven runtime\n";
        var plan = FusedPlan.Make(g, program.Schedule, FusedRunner.UnitsFor(g, program.Schedule));
        return plan is null ? "not fused: no edges, or a unit's buffers would exceed 16M items\n" : Text(g, plan);
    }

    internal static string Text(FlatGraph g, FusedPlan plan)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"fused unit: {plan.Units} steady state(s), {plan.Steps.Count} step(s)"));
        sb.AppendLine("arenas: " + string.Join(", ", plan.Arenas.OrderBy(kv => kv.Key.Name, StringComparer.Ordinal)
            .Select(kv => string.Create(inv, $"{kv.Key.Name}[{kv.Value.Length}]"))));
        sb.AppendLine("edges:");
        int width = g.Edges.Select(e => e.Src.Name.Length + e.Dst.Name.Length + 4).DefaultIfEmpty(0).Max();
        for (int i = 0; i < g.Edges.Count; i++)
        {
            var e = g.Edges[i];
            string where = plan.IsVirtual(i)
                ? FusedRunner.InARow(plan.Map[i]!) ? string.Create(inv, $"compiled away: items in a row at {(plan.Map[i]!.Length > 0 ? plan.Map[i]![0] : 0)}") : "compiled away: read through a table"
                : string.Create(inv, $"buffer at {plan.Base[i]}, {plan.Carried[i]} kept + {plan.Flow[i]} per unit");
            sb.AppendLine($"  {(e.Src.Name + " -> " + e.Dst.Name).PadRight(width)} {where}");
        }
        var movers = g.Actors.Where(a => FusedPlan.IsMover(a) && a.Out.All(o => o is null || plan.IsVirtual(g.Edges.IndexOf(o)))).ToList();
        sb.AppendLine("no code (every output compiled away): " + (movers.Count == 0 ? "none" : string.Join(", ", movers.Select(a => a.Name))));
        sb.AppendLine("steps:");
        const int shown = 40;
        foreach (var f in plan.Steps.Take(shown))
            sb.AppendLine(string.Create(inv, $"  {f.Actor.Name} x{f.Count}{(movers.Contains(f.Actor) ? "  (no code)" : "")}"));
        if (plan.Steps.Count > shown) sb.AppendLine(string.Create(inv, $"  … {plan.Steps.Count - shown} more"));
        return sb.ToString();
    }
}
