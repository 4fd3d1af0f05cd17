using System.Reflection;
using Loom.Inference;
using Xunit;

namespace Loom.Tests.InferenceTests;

/// <summary>The listed shape-rule classes are exactly those an assembly scan finds, in the scan's order (a new one cannot be forgotten).</summary>
public class ShapeRulesCatalogTests
{
    [Fact]
    public void CatalogListsEveryMarkedClassOnceInScanOrder()
    {
        var scanned = typeof(ShapeRules).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<ShapeRulesAttribute>() is not null).Select(t => t.FullName).ToList();
        var listed = ShapeRulesCatalog.All.Select(r => r.Method.DeclaringType!.FullName).ToList();
        Assert.True(scanned.Count > 30, $"only {scanned.Count} marked classes found");
        Assert.Equal(scanned, listed);
    }
}
