#include "config.h"

#include "mls_campaign.h"

int mls_campaign_placeholder_(void);
int mls_campaign_placeholder_(void) { return 0; }
