import Foundation

/// One finished run as the outputs carry it: Prometheus text, the Pushgateway group it replaces,
/// the generic webhook's JSON and the Discord message.
public struct DeliveryContent: Sendable {
    public var exposition: String
    public var pushgatewayGroup: PushgatewayGroup
    public var webhookJSON: Data
    public var discord: DiscordMessage

    public init(exposition: String, pushgatewayGroup: PushgatewayGroup, webhookJSON: Data, discord: DiscordMessage) {
        self.exposition = exposition
        self.pushgatewayGroup = pushgatewayGroup
        self.webhookJSON = webhookJSON
        self.discord = discord
    }
}

/// A Pushgateway grouping key: the job and further labels. A push replaces the whole group.
public struct PushgatewayGroup: Sendable, Equatable {
    public var job: String
    public var labels: [Label]

    public struct Label: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(job: String, labels: [Label] = []) {
        self.job = job
        self.labels = labels
    }

    /// `/metrics/job/<job>/<name>@base64/<value>…`: every value base64url encoded, as the
    /// Pushgateway's API allows, so a `/` in a store URL or cluster name cannot split the path.
    public var path: String {
        ([("job", job)] + labels.map { ($0.name, $0.value) }).reduce("/metrics") { path, label in
            path + "/\(label.0)@base64/\(Self.base64URL(label.1))"
        }
    }

    /// base64url without padding; the empty value is `=`, as the Pushgateway documents.
    static func base64URL(_ text: String) -> String {
        guard !text.isEmpty else { return "=" }
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
