import Foundation

/// Kubernetes resource quantities as bytes (`5Gi`, `500Mi`, `1G`, `1e9`, `1024`), enough to compare
/// storage sizes.
enum Quantity {
    static func bytes(_ text: String) -> Double? {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
            ("Ei", 1_152_921_504_606_846_976), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18), ("m", 1e-3),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in suffixes where trimmed.hasSuffix(suffix) {
            return Double(trimmed.dropLast(suffix.count)).map { $0 * factor }
        }
        return Double(trimmed)
    }
}
