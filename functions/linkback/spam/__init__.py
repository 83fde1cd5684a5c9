"""Spam: measuring a page, the scored rules with reasons, the policy, screening and Akismet."""
