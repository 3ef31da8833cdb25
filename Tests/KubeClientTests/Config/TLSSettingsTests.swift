import Foundation
import NIOSSL
import Testing

@testable import KubeClient

@Suite("TLSSettings from kubeconfig data fields")
struct TLSSettingsTests {
    func resolve(cluster: String, user: String) throws -> ResolvedCluster {
        let file = """
            clusters:
            - name: prod
              cluster:
                server: https://127.0.0.1:6443
                \(cluster)
            users:
            - name: admin
              user:
                \(user)
            contexts:
            - name: ctx
              context: {cluster: prod, user: admin}
            current-context: ctx
            """
        return try KubeconfigLoader(environment: memoryEnvironment(files: ["/home/tester/.kube/config": file])).load()
    }

    @Test func dataFieldsDecodeAndBuildATLSConfiguration() async throws {
        let fixtures = try await CertificateFixtures.load()
        // Wrapped base64, as `base64` without -w0 writes it, must still decode.
        let wrappedCA = fixtures.caCertificatePEM.kubeconfigBase64.enumerated()
            .map { $0.offset > 0 && $0.offset % 76 == 0 ? "\n      \($0.element)" : String($0.element) }.joined()
        let resolved = try resolve(
            cluster: "certificate-authority-data: |\n      \(wrappedCA)",
            user: "client-certificate-data: \(fixtures.clientCertificatePEM.kubeconfigBase64)\n    client-key-data: \(fixtures.clientKeyPEM.kubeconfigBase64)")
        #expect(resolved.tls.trustedCertificatesPEM == Array(fixtures.caCertificatePEM.utf8))
        #expect(resolved.tls.clientCertificate?.certificateChainPEM == Array(fixtures.clientCertificatePEM.utf8))
        #expect(resolved.tls.clientCertificate?.privateKeyPEM.revealed == Array(fixtures.clientKeyPEM.utf8))
        #expect(!resolved.tls.insecureSkipVerify)

        let tls = try resolved.tls.makeTLSConfiguration()
        #expect(tls.certificateVerification == .fullVerification)
        #expect(tls.trustRoots == .certificates(try NIOSSLCertificate.fromPEMBytes(Array(fixtures.caCertificatePEM.utf8))))
        #expect(tls.certificateChain.count == 1)
        #expect(tls.privateKey != nil)
        // The whole NIOSSL context must accept the combination (key matches certificate).
        _ = try NIOSSLContext(configuration: tls)
    }

    @Test func noCAMeansSystemRoots() throws {
        let resolved = try resolve(cluster: "tls-server-name: api", user: "token: t")
        #expect(resolved.tls.trustedCertificatesPEM == nil)
        let tls = try resolved.tls.makeTLSConfiguration()
        #expect(tls.trustRoots == .default)
        #expect(tls.certificateChain.isEmpty)
        #expect(resolved.tls.serverName == "api")
    }

    @Test func malformedBase64NamesTheField() throws {
        let ca = #expect(throws: KubeconfigError.self) {
            try resolve(cluster: "certificate-authority-data: \"%%%not-base64%%%\"", user: "token: t")
        }
        #expect(ca?.code == .invalidBase64)
        #expect(ca?.subject == "cluster \"prod\"")
        #expect(ca?.detail == "certificate-authority-data is not valid base64")

        let cert = #expect(throws: KubeconfigError.self) {
            try resolve(cluster: "", user: "client-certificate-data: \"@@@\"\n    client-key-data: \("k".kubeconfigBase64)")
        }
        #expect(cert?.detail == "client-certificate-data is not valid base64")

        let key = #expect(throws: KubeconfigError.self) {
            try resolve(cluster: "", user: "client-certificate-data: \("c".kubeconfigBase64)\n    client-key-data: \"SECRET!!\"")
        }
        #expect(key?.detail == "client-key-data is not valid base64")
        #expect(key.map(String.init(describing:))?.contains("SECRET") == false)
    }

    @Test func nonPEMBytesFailWhenBuildingTLSAndNameTheField() async throws {
        let fixtures = try await CertificateFixtures.load()
        let badCA = try resolve(cluster: "certificate-authority-data: \("not a certificate".kubeconfigBase64)", user: "token: t")
        let caError = #expect(throws: KubeconfigError.self) { try badCA.tls.makeTLSConfiguration() }
        #expect(caError?.code == .invalidPEM)
        #expect(caError?.subject == "certificate-authority-data of cluster \"prod\"")

        let badKey = try resolve(
            cluster: "",
            user: "client-certificate-data: \(fixtures.clientCertificatePEM.kubeconfigBase64)\n    client-key-data: \("SECRET-KEY-MATERIAL".kubeconfigBase64)")
        let keyError = #expect(throws: KubeconfigError.self) { try badKey.tls.makeTLSConfiguration() }
        #expect(keyError?.code == .invalidPEM)
        #expect(keyError?.subject == "client-key-data of user \"admin\"")
        #expect(keyError.map(String.init(describing:))?.contains("SECRET") == false)
    }

    @Test func certificateWithoutKeyIsRejected() throws {
        let error = #expect(throws: KubeconfigError.self) {
            try resolve(cluster: "", user: "client-certificate-data: \("c".kubeconfigBase64)")
        }
        #expect(error?.code == .invalidKubeconfig)
        #expect(error?.detail == "has a client certificate but no client key")
    }

    @Test func tokenAndClientCertificateCombine() async throws {
        let fixtures = try await CertificateFixtures.load()
        let resolved = try resolve(
            cluster: "",
            user:
                "token: SECRET-tok\n    client-certificate-data: \(fixtures.clientCertificatePEM.kubeconfigBase64)\n    client-key-data: \(fixtures.clientKeyPEM.kubeconfigBase64)"
        )
        guard case .bearerToken(let token) = resolved.credentials else {
            Issue.record("expected bearer token")
            return
        }
        #expect(token.revealed == "SECRET-tok")
        #expect(resolved.tls.clientCertificate != nil)
        #expect(!"\(resolved.credentials)".contains("SECRET"))
    }
}

@Suite("Secret never prints its value")
struct RedactedSecretTests {
    @Test func descriptionsAndDumpAreRedacted() {
        let secret = Secret("SECRET-value")
        #expect(secret.description == "<redacted>")
        #expect(secret.debugDescription == "<redacted>")
        #expect("\(secret)" == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("SECRET"))
        #expect(secret.revealed == "SECRET-value")
    }

    @Test func enclosingModelsDoNotLeak() throws {
        let yaml = """
            users:
            - name: u
              user:
                token: SECRET-token
                password: SECRET-password
                client-key-data: U0VDUkVU
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: x
                  env: [{name: KEY, value: SECRET-env}]
            """
        let env = memoryEnvironment(files: ["/k": yaml])
        let config = try #require(try KubeconfigLoader(environment: env).readKubeconfig(at: "/k"))
        #expect(config.user(named: "u")?.token?.revealed == "SECRET-token")
        for text in [String(describing: config), String(reflecting: config)] {
            #expect(!text.contains("SECRET"))
            #expect(!text.contains("U0VDUkVU"))
        }
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains("SECRET"))
    }

    @Test func roundTripsThroughCodable() throws {
        let data = try JSONEncoder().encode(["token": Secret("abc")])
        #expect(String(decoding: data, as: UTF8.self) == #"{"token":"abc"}"#)
        let decoded = try JSONDecoder().decode([String: Secret<String>].self, from: data)
        #expect(decoded["token"]?.revealed == "abc")
    }
}
