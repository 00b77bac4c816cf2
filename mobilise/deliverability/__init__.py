"""What mailbox providers and relays report back: bounces, complaints and unsubscribes from provider webhooks and
inbound mail, recorded once each under the suppression rules; and each office's reputation against the providers'
thresholds."""
