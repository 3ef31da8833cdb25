import Foundation

/// Who made a request, as the apiserver's authenticators would name them.
public enum RequestUser: Sendable, Equatable, CustomStringConvertible {
    /// The kubeconfig users `sim serve` writes (client certificate or the admin token), and
    /// in-process callers: everything is allowed, as for a cluster admin.
    case admin
    /// A pod's projected service-account token: RBAC decides.
    case serviceAccount(namespace: String, name: String)

    public var description: String {
        switch self {
        case .admin: "system:admin"
        case .serviceAccount(let namespace, let name): "system:serviceaccount:\(namespace):\(name)"
        }
    }

    /// The groups the apiserver adds for this user.
    var groups: [String] {
        switch self {
        case .admin: ["system:masters", "system:authenticated"]
        case .serviceAccount(let namespace, _): ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"]
        }
    }
}

/// How pods reach the API server: the address and CA put into every container (the
/// in-cluster config), and the service-account tokens the kubelet hands out.
public actor ClusterAccess {
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var caPEM: String
    }

    public private(set) var endpoint: Endpoint?
    private var tokens: [String: RequestUser] = [:]

    public init() {}

    /// Set by the HTTPS server once it listens; without it pods get no in-cluster config.
    public func setEndpoint(_ endpoint: Endpoint?) {
        self.endpoint = endpoint
    }

    /// A token for the service account, as the kubelet projects it into a pod.
    public func issueToken(namespace: String, serviceAccount: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = "sa." + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        tokens[token] = .serviceAccount(namespace: namespace, name: serviceAccount)
        return token
    }

    /// The user a bearer token stands for, if it is one of ours.
    public func user(forToken token: String) -> RequestUser? {
        tokens[token]
    }
}
