import Foundation

/// A byte count written as a Kubernetes quantity: `1Gi`, `500Mi`, `2G`, `1073741824`.
public struct ByteQuantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    private static let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
        ("Pi", 1_125_899_906_842_624), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15),
    ]

    /// Parses a quantity; nil when it is not one, is negative, or is not a whole number of bytes.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var multiplier: Double = 1
        for (suffix, factor) in Self.suffixes where trimmed.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            multiplier = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
            let value = Double(number)
        else { return nil }
        let bytes = value * multiplier
        guard bytes.isFinite, bytes >= 0, bytes < 9.2e18, bytes == bytes.rounded() else { return nil }
        self.bytes = Int64(bytes)
    }

    /// The shortest exact binary form (`1Gi`), else the plain byte count.
    public var description: String {
        for (suffix, factor) in Self.suffixes.prefix(5).reversed() {
            let size = Int64(factor)
            if bytes >= size, bytes % size == 0 { return "\(bytes / size)\(suffix)" }
        }
        return "\(bytes)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.bytes < rhs.bytes }
}
