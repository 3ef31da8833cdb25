import Foundation

/// Sizes and bodies in words for reports and errors.
public enum ByteText {
    /// `512 B`, `1.5 MiB`, `2.0 GiB`: binary units, one decimal.
    public static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f ", value) + units[unit]
    }

    /// The start of a body on one line (whitespace runs become one space), cut to `limit`
    /// characters with …: enough to recognise a proxy's page or a server's complaint.
    public static func excerpt(_ bytes: some Collection<UInt8>, limit: Int = 120) -> String? {
        let text = String(decoding: bytes.prefix(limit * 2), as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !text.isEmpty else { return nil }
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}
