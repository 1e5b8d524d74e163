"""DNS: the record of `domain` in the zone that holds it, pointing at the ingress load balancer.

One module per DNS service (route53, cloud_dns, azure_dns, digitalocean, cloudflare), each with
`build(name, request) -> DomainRecord` and the SDK modules it creates resources from
(`SDK_MODULES`, as in qhub/clouds). These and qhub/clouds are the only modules that import a
cloud or DNS SDK; qhub/stack.py picks the module (the one place that dispatches on a provider)
and runs it after the platform, with the platform's load balancer address.
"""
