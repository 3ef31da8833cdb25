import Foundation

/// A Discord webhook message: one embed holding the verdict (title and colour), a description,
/// and fields for the figures and volumes. Discord rejects a message over its limits with HTTP
/// 400, so every text is cut to its limit here (title 256, description 4096, 25 fields, field
/// name 256, value 1024, 6000 characters in all).
public struct DiscordMessage: Sendable, Equatable, Encodable {
    public var username = "longhorn-dr"
    public var embeds: [Embed]
    /// No @everyone, role or user pings from text that came from a cluster or a store.
    public var allowedMentions = AllowedMentions()

    public struct AllowedMentions: Sendable, Equatable, Encodable {
        public var parse: [String] = []
    }

    public struct Embed: Sendable, Equatable, Encodable {
        public var title: String
        public var description: String
        public var color: Int
        public var fields: [Field]
        /// ISO 8601.
        public var timestamp: String
    }

    public struct Field: Sendable, Equatable, Encodable {
        public var name: String
        public var value: String
        public var inline: Bool

        public init(_ name: String, _ value: String, inline: Bool = false) {
            self.name = name
            self.value = value
            self.inline = inline
        }
    }

    /// The embed colours Discord shows as the bar beside the message.
    public enum Colour: Int, Sendable {
        case pass = 0x2ECC71
        case fail = 0xE74C3C
        case incomplete = 0xF1C40F
    }

    enum CodingKeys: String, CodingKey {
        case username, embeds
        case allowedMentions = "allowed_mentions"
    }

    static let totalLimit = 6000

    public init(title: String, description: String, colour: Colour, fields: [Field], at date: Date) {
        var fields = fields.prefix(25).map { Field(Self.cut($0.name, 256), Self.cut($0.value.isEmpty ? "-" : $0.value, 1024), inline: $0.inline) }
        let title = Self.cut(title, 256)
        var description = Self.cut(description, 4096)
        // Over the total: fields go first (from the end), then the description is shortened.
        func total() -> Int { title.count + description.count + fields.reduce(0) { $0 + $1.name.count + $1.value.count } }
        while total() > Self.totalLimit, fields.count > 1 { fields.removeLast() }
        if total() > Self.totalLimit { description = Self.cut(description, max(1, description.count - (total() - Self.totalLimit))) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        embeds = [Embed(title: title, description: description, color: colour.rawValue, fields: fields, timestamp: formatter.string(from: date))]
    }

    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// `text` cut to `limit` characters, ending in … when cut.
    static func cut(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
