import Foundation

/// Parses and prints durations the way Go and Kubernetes users write them: `90s`, `10m`, `1h30m`, `500ms`.
public enum DurationText {
    /// Parses a duration such as `1h30m`; returns nil for anything else (bare numbers included,
    /// since `90` could mean seconds or minutes).
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var totalMillis: Int64 = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let millisPerUnit: Double
            switch unit {
            case "ms": millisPerUnit = 1
            case "s": millisPerUnit = 1_000
            case "m": millisPerUnit = 60_000
            case "h": millisPerUnit = 3_600_000
            case "d": millisPerUnit = 86_400_000
            default: return nil
            }
            let millis = value * millisPerUnit
            guard millis.isFinite, millis < 1e15 else { return nil }
            totalMillis += Int64(millis.rounded())
        }
        return .milliseconds(totalMillis)
    }

    /// Renders a duration in the same notation, largest units first (`1h30m`, `45s`, `250ms`).
    public static func format(_ duration: Duration) -> String {
        var millis = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        if millis == 0 { return "0s" }
        var text = millis < 0 ? "-" : ""
        millis = abs(millis)
        let units: [(String, Int64)] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)]
        for (name, size) in units where millis >= size {
            text += "\(millis / size)\(name)"
            millis %= size
        }
        return text
    }
}

extension Duration {
    /// Whole milliseconds, for reports and comparisons.
    public var milliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point number, for throughput figures and reports.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
