import Foundation

/// Which endpoints this tool sends data to: https anywhere, plain http only to this machine.
public enum EndpointPolicy {
    /// Nil when `url` may be used; otherwise why not, in words that do not repeat the URL.
    public static func cleartextRefusal(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host,
            !host.isEmpty
        else { return "is not a URL" }
        if scheme == "https" { return nil }
        guard scheme == "http" else { return "is not an http(s) URL" }
        return isLoopback(host)
            ? nil
            : "uses http:// to another machine: what is sent, and any token in the URL, would cross the network in clear text (use https://)"
    }

    /// Throws (exit 3) when `url` would carry `what` in clear text to another machine and the
    /// operator did not allow it (`--allow-insecure-endpoint`, `aws.allowInsecureEndpoint`).
    /// Returns a warning to show when it is allowed anyway.
    @discardableResult
    public static func require(_ url: String, carrying what: String, allowInsecure: Bool) throws -> String? {
        guard let refusal = cleartextRefusal(url) else { return nil }
        let subject = "endpoint \(URLComponents(string: url).flatMap { $0.host }.map { "http://\($0)" } ?? "(not a URL)")"
        guard allowInsecure, refusal.hasPrefix("uses http") else {
            throw DRError(
                .environment, subject: subject, detail: "\(refusal); it would carry \(what)",
                hint: "use https://; if this network is yours and you accept that, pass --allow-insecure-endpoint (config: aws.allowInsecureEndpoint: true)")
        }
        return "warning: \(subject) is plain http: \(what) crosses the network unencrypted (allowed by --allow-insecure-endpoint)"
    }

    /// localhost, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
