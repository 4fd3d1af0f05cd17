namespace Loom.Inference;

/// <summary>Marks a static class with a <c>public static void Register(ShapeRules rules)</c> method that adds shape rules.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ShapeRulesAttribute : System.Attribute { }

/// <summary>The shape and type rule of every operator, by (domain, op type).</summary>
public sealed class ShapeRules
{
    private readonly Dictionary<(string, string), ShapeRule> _rules = new();

    public void Add(string opType, ShapeRule rule, string domain = "") => _rules[(domain, opType)] = rule;

    /// <summary>Adds the same rule for several operators.</summary>
    public void Add(IEnumerable<string> opTypes, ShapeRule rule, string domain = "")
    {
        foreach (var op in opTypes) Add(op, rule, domain);
    }

    public ShapeRule? Find(string domain, string opType) => _rules.GetValueOrDefault((domain, opType));

    public bool Contains(string domain, string opType) => _rules.ContainsKey((domain, opType));

    /// <summary>All rules Loom defines: those of every class marked <see cref="ShapeRulesAttribute"/> (<see cref="ShapeRulesCatalog"/>).</summary>
    public static ShapeRules Default { get; } = Discover();

    private static ShapeRules Discover()
    {
        var rules = new ShapeRules();
        foreach (var register in ShapeRulesCatalog.All) register(rules);
        return rules;
    }
}
